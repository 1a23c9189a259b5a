"""Presets, parameter counts of the released models (built on the meta device), the tiny G+D step."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import torch

from vidgan.data.config import DataConfig
from vidgan.families.api import StepContext, count_parameters
from vidgan.families.tganv2 import DEFAULT_PRESET, PRESETS, Config, build, sample
from vidgan.families.tganv2.discriminator import TGANv2Discriminator
from vidgan.families.tganv2.generator import TGANv2Generator


def _cfg(preset: str) -> Config:
    return Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in PRESETS[preset]["family"].items()})


def _meta_counts(cfg: Config) -> tuple[int, int, list[int]]:
    with torch.device("meta"):
        g, d = TGANv2Generator(cfg), TGANv2Discriminator(cfg)
    return count_parameters(g), count_parameters(d), [count_parameters(x) for x in d.levels]


def test_released_parameter_counts():
    g, d, per_level = _meta_counts(_cfg("ucf101_192"))
    assert g == 88_032_460  # spec §1.9
    assert d == 116_077_060 and per_level == [29_019_265] * 4  # spec §2.1
    g, d, _ = _meta_counts(_cfg("faceforensics_256"))
    assert g == 89_874_636 and d == 116_077_060


def test_yaml_default_three_layer_clstm():
    """conf/gen/tgan_multi_192x256.yml defaults (clstm 512, 3 stacked cells): 65,353,420 (spec §1.9);
    the extra cells appear as Chainer ``decoder1``, ``decoder2``."""
    from vidgan.families.tganv2.convert import chainer_key

    with torch.device("meta"):
        g = TGANv2Generator(Config(clstm_ch=512, n_layers=3))
    assert count_parameters(g) == 65_353_420
    keys = {chainer_key(k, 3) for k in g.state_dict()}
    assert {"decoder1/w_xifoc/W", "decoder2/w_hifoc/W"} <= keys and "decoder2/w_hifoc/b" not in keys


def test_generator_parameter_breakdown():
    with torch.device("meta"):
        g = TGANv2Generator(Config())
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(g.fc) == 2_368_512 and n(g.clstm) == 75_501_568
    assert [n(b) for b in g.blocks] == [7_606_784, 1_902_848, 476_288, 119_360, 29_984, 19_680]
    assert [n(r) for r in g.renders] == [3_715, 1_859, 931, 931]
    with torch.device("meta"):
        d = TGANv2Discriminator(Config())
    blocks = [n(getattr(d.levels[0], f"block{k}")) for k in range(1, 6)] + [n(d.levels[0].l6)]
    assert blocks == [116_160, 340_288, 1_360_512, 5_440_768, 21_760_512, 1_025]


def test_presets_shape_and_sizes():
    assert DEFAULT_PRESET == "moving_digits_64" and "tiny" in PRESETS
    for name, preset in PRESETS.items():
        assert set(preset) <= {"family", "data", "train"}, name
        cfg = _cfg(name)
        assert preset["data"]["size"] == cfg.image_size, name
        assert preset["data"]["frames"] == cfg.n_frames, name
        assert preset["data"]["sampler"] == "multilevel", name
    assert _cfg("ucf101_192").image_size == 192 and _cfg("faceforensics_256").image_size == 256
    assert _cfg("moving_digits_64").level_sizes == (8, 16, 32, 64)


def test_build_rejects_mismatched_data():
    cfg = _cfg("tiny")
    with pytest.raises(ValueError, match="data.size"):
        build(cfg, DataConfig(sampler="multilevel", size=64, frames=8))
    with pytest.raises(ValueError, match="data.frames"):
        build(cfg, DataConfig(sampler="multilevel", size=32, frames=16))
    with pytest.raises(ValueError, match="divisible"):
        build(replace(cfg, n_frames=6), DataConfig(sampler="multilevel", size=32, frames=6))


def _tiny_batch(cfg: Config, n: int = 2) -> dict:
    gen = torch.Generator().manual_seed(1)
    levels = [torch.rand(n, 3, t, s, s, generator=gen) * 2 - 1 for t, s in zip(cfg.level_frames, cfg.level_sizes)]
    return {"levels": levels, "offsets": torch.zeros(n, 3, dtype=torch.long)}


def _run_step(parts, batch, seed: int = 0):
    ctx = StepContext(step=0, clips_seen=0, generator=torch.Generator().manual_seed(seed))
    out = {}
    for ph in parts.objective.phases:
        opt = parts.optimizers[ph.optimizer]
        opt.zero_grad(set_to_none=True)
        for role, m in parts.modules.items():
            m.requires_grad_(role in ph.modules)
        terms = parts.objective(ph.name, batch, parts.modules, ctx)
        loss = sum(terms.values())
        loss.backward()
        grads = [p.grad for r in ph.modules for p in parts.modules[r].parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)
        opt.step()
        out.update({k: float(v.detach()) for k, v in terms.items()})
    return out, ctx


@pytest.mark.parametrize("order", ["g_first", "d_first"])
def test_tiny_step_fast_finite_deterministic(order):
    cfg = replace(_cfg("tiny"), update_order=order)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        parts = build(cfg, DataConfig(sampler="multilevel", size=32, frames=8))
        t0 = time.process_time()  # CPU time: robust to a shared machine
        terms, ctx = _run_step(parts, _tiny_batch(cfg))
        dt = time.process_time() - t0
        video = sample(parts.modules["generator"], 2, 8, torch.Generator().manual_seed(5))
        results.append((terms, video))
    assert dt < 1.0, f"tiny G+D step took {dt:.2f} CPU s"
    assert set(results[0][0]) == {"loss_gen", "loss_dis", "loss_gp"}
    assert results[0][0] == results[1][0]
    assert torch.equal(results[0][1], results[1][1])
    assert results[0][1].shape == (2, 3, 8, 32, 32) and results[0][1].abs().max() <= 1
    assert parts.modules["generator"].training  # sample() restores the mode
    assert [p.name for p in parts.objective.phases] == (["G", "D"] if order == "g_first" else ["D", "G"])


def test_sample_is_dense_eval_and_longer_videos():
    cfg = _cfg("tiny")
    parts = build(cfg, DataConfig(sampler="multilevel", size=32, frames=8))
    g = parts.modules["generator"]
    v = sample(g, 1, 12, torch.Generator().manual_seed(0))  # the ConvLSTM unrolls longer at test time
    assert v.shape == (1, 3, 12, 32, 32)
    assert torch.equal(sample(g, 1, 8, torch.Generator().manual_seed(0)), v[:, :, :8])


def test_batch_subsampling_objective():
    cfg = replace(_cfg("tiny"), subsample_batch=(2, 2, 2))
    parts = build(cfg, DataConfig(sampler="multilevel", size=32, frames=8))
    terms, ctx = _run_step(parts, _tiny_batch(cfg, n=8))
    assert [f.shape[0] for f in ctx.cache["fakes"]] == [8, 4, 2, 1]
    assert ctx.logs["r1_gamma_half_effective"] == cfg.r1_gamma_half


def test_bad_batch_message():
    cfg = _cfg("tiny")
    parts = build(cfg, DataConfig(sampler="multilevel", size=32, frames=8))
    ctx = StepContext(step=0, clips_seen=0, generator=torch.Generator())
    with pytest.raises(ValueError, match="sampler='multilevel'"):
        parts.objective("G", {"video": torch.zeros(2, 3, 8, 32, 32)}, parts.modules, ctx)
    bad = _tiny_batch(cfg)
    bad["levels"][3] = bad["levels"][3][:, :, :, :16, :16]
    with pytest.raises(ValueError, match="real level 4"):
        parts.objective("G", bad, parts.modules, ctx)


def test_presets_and_config_files_resolve():
    """Every preset and configs/tganv2/*.yaml resolves strictly against the real RunConfig/DataConfig."""
    from pathlib import Path

    from vidgan.engine.config import resolve_run_config

    for name in PRESETS:
        cfg = resolve_run_config(f"tganv2:{name}")
        assert cfg.family.image_size == cfg.data.size and cfg.family.n_frames == cfg.data.frames
    files = sorted((Path(__file__).resolve().parents[3] / "src" / "vidgan" / "configs" / "tganv2").glob("*.yaml"))
    assert len(files) >= 3
    for f in files:
        cfg = resolve_run_config(str(f))
        assert cfg.family.name == "tganv2" and cfg.data.sampler == "multilevel", f.name


def test_r1_under_cpu_bf16_keeps_bf16_and_matches_fp32():
    """R1 on the port preset's discriminator (widths 32..256, levels 8² x 20 .. 64² x 1) under CPU bf16 autocast,
    through the objective's guard (bf16 convs with a differentiable input gradient): weight gradients within
    bf16 rounding of fp32."""
    from vidgan.families.tganv2.loss import r1_penalty
    from vidgan.losses.gan import double_backward_convs

    cfg = Config(**{**PRESETS["port_parity_64"]["family"], "d_widths": [8, 8, 16, 32, 64]})
    torch.manual_seed(0)
    dis = TGANv2Discriminator(cfg)
    shapes = [(2, 1, 20, 8, 8), (2, 1, 5, 16, 16), (2, 1, 1, 32, 32), (2, 1, 1, 64, 64)]
    xs = [torch.rand(s) * 2 - 1 for s in shapes]

    def grads(bf16: bool):
        dis.zero_grad(set_to_none=True)
        x = [t.clone().requires_grad_(True) for t in xs]
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16), double_backward_convs():
            y = dis(x)
        r1_penalty(y, x, cfg)[0].backward()
        # biases reach R1 only through ReLU masks (zero gradient): fp32 autograd fills zeros, the bf16 path None
        return y[0].dtype, torch.cat(
            [(torch.zeros_like(p) if p.grad is None else p.grad).flatten() for p in dis.parameters()]
        )

    (_, ref), (dtype, got) = grads(False), grads(True)
    assert dtype == torch.bfloat16
    assert float((got - ref).norm() / ref.norm()) < 2e-2
