"""Presets, data checks, a few training iterations, preview and streaming inference of the paired family."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import vidgan.families.timecycle as T
from vidgan.core.config import from_dict
from vidgan.families.api import DataMismatch, StepContext, StreamOptions, count_parameters
from vidgan.temporal.stream import to_tensor, to_uint8

from .conftest import data_spec


def _cfg(preset="tiny", **kw):
    return dataclasses.replace(from_dict(T.Config, T.PRESETS[preset]["family"]), **kw)


def _tiny_data(**kw):
    d = dict(T.PRESETS["tiny"]["data"])
    d.update(kw)
    return data_spec(
        **{k: d[k] for k in ("frames", "size")}, **{k: v for k, v in kw.items() if k not in ("frames", "size")}
    )


def _batch(b=2, t=4, s=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        "source": torch.randint(0, 256, (b, 3, t, s, s), generator=g, dtype=torch.uint8),
        "target": torch.randint(0, 256, (b, 3, t, s, s), generator=g, dtype=torch.uint8),
    }


def _train(parts, batch, steps=2):
    before = {r: [p.detach().clone() for p in m.parameters()] for r, m in parts.modules.items()}
    for step in range(steps):
        ctx = StepContext(step, 0, torch.Generator().manual_seed(step))
        for ph in parts.objective.phases:
            for role, m in parts.modules.items():
                m.requires_grad_(role in ph.modules)
            terms = parts.objective(ph.name, batch, parts.modules, ctx)
            loss = sum(terms.values())
            assert torch.isfinite(loss)
            parts.optimizers[ph.optimizer].zero_grad(set_to_none=True)
            loss.backward()
            parts.optimizers[ph.optimizer].step()
    for role, m in parts.modules.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[role], m.parameters(), strict=True)), role
    return terms


def test_presets_build():
    assert T.DEFAULT_PRESET == "p" and {"p", "p_plus", "p_pingpong", "pix2pix", "pix2pix_block", "tiny"} <= set(
        T.PRESETS
    )
    p = T.build(_cfg("p"), data_spec(frames=5, size=64))
    assert set(p.modules) == {"generator", "discriminator", "seq_discriminator", "timecycle"}
    assert (
        count_parameters(p.modules["generator"]) == 11_387_587
    )  # resnet_9blocks/64, input 6 (CycleGAN: 11,378,179 at input 3)
    assert count_parameters(p.modules["timecycle"]) == 1_946_307  # resnet_1blocks/64 motion model, counted once
    assert [ph.name for ph in p.objective.phases] == ["D", "G"] and p.ema is None
    opt = p.optimizers["G"]
    assert opt.defaults["lr"] == 2e-4 and opt.defaults["betas"] == (0.5, 0.999)
    ids = [id(q) for g in opt.param_groups for q in g["params"]]
    assert len(ids) == len(set(ids))  # the shared motion model is stepped once (official: twice)
    pp = T.build(_cfg("p_pingpong"), data_spec())
    assert "timecycle" not in pp.modules and pp.objective.timecycle.mode == "pingpong"
    assert p.eval_keys == ("source", "target") and p.stream_roles == ("generator",)


def test_data_mismatch_names_fields():
    with pytest.raises(DataMismatch, match="data.sampler"):
        T.build(_cfg(), data_spec(sampler="clips"))
    with pytest.raises(DataMismatch, match="data.pairing"):
        T.build(_cfg(), data_spec(pairing="unpaired"))
    with pytest.raises(DataMismatch, match="data.size"):
        T.build(_cfg(), data_spec(size=30))
    with pytest.raises(DataMismatch, match="data.frames"):
        T.build(_cfg(), data_spec(frames=2))
    with pytest.raises(DataMismatch, match="data.size"):
        T.build(_cfg(generator="unet_256"), data_spec(size=64))


@pytest.mark.parametrize("reuse", [True, False])
def test_tiny_trains_all_terms(reuse):
    parts = T.build(_cfg(reuse_fakes=reuse), data_spec(frames=4, size=32))
    terms = _train(parts, _batch())
    assert {"gan_frame", "fm_frame", "l1", "sequence", "timecycle", "timecycle_gan"} <= set(terms)


def test_reuse_equals_recompute():
    """The D phase's cached generator pass gives the same G terms as a fresh pass with the same draws."""
    out = []
    for reuse in (True, False):
        torch.manual_seed(0)
        parts = T.build(_cfg(reuse_fakes=reuse), data_spec(frames=4, size=32))
        ctx = StepContext(0, 0, torch.Generator().manual_seed(3))
        parts.objective("D", _batch(), parts.modules, ctx)
        out.append({k: float(v.detach()) for k, v in parts.objective("G", _batch(), parts.modules, ctx).items()})
    assert out[0] == pytest.approx(out[1], rel=1e-6)


def test_baselines_and_options_train():
    _train(T.build(_cfg("tiny", tc_mode="pingpong"), data_spec(frames=4, size=32)), _batch())
    p2p = dict(T.PRESETS["pix2pix"]["family"], generator="resnet_1blocks", ngf=4, ndf=4)
    parts = T.build(from_dict(T.Config, p2p), data_spec(frames=1, size=32))
    assert set(parts.modules) == {"generator", "discriminator"} and parts.modules["generator"].n_prev == 0
    _train(parts, _batch(t=1))
    blk = dict(T.PRESETS["pix2pix_block"]["family"], generator="resnet_1blocks", ngf=4, ndf=4)
    parts = T.build(from_dict(T.Config, blk), data_spec(frames=3, size=32))
    _train(parts, _batch(t=3))
    extra = _cfg(
        "tiny",
        vgg_weight=1.0,
        vgg_weights="random",
        warp_weight=1.0,
        temporal_scales=2,
        n_frames_d=2,
        separate_motion_models=True,
    )
    terms = _train(T.build(extra, data_spec(frames=4, size=32)), _batch(), steps=1)
    assert {"vgg", "warp"} <= set(terms)


def test_lr_factor_constant_by_default_linear_option():
    assert T.build(_cfg(), data_spec(frames=4, size=32)).lr_factor("G", 10**9) == 1.0
    lf = T.build(_cfg(lr_decay_start=100, lr_decay_clips=100), data_spec(frames=4, size=32)).lr_factor
    assert lf("G", 50) == 1.0 and lf("G", 150) == 0.5 and lf("D", 300) == 0.0


def test_preview_deterministic():
    parts = T.build(_cfg(), data_spec(frames=4, size=32))
    a, b = parts.preview(parts.modules, _batch()), parts.preview(parts.modules, _batch())
    assert a.shape == (2, 3, 4, 32, 96) and torch.equal(a, b) and a.abs().max() <= 1


def test_stream_matches_unroll_and_is_deterministic():
    parts = T.build(_cfg(), data_spec(frames=4, size=32))
    gen = parts.modules["generator"].eval()
    frames = [np.random.default_rng(i).integers(0, 256, (30, 34, 3), dtype=np.uint8) for i in range(6)]
    stream = parts.stream(parts.modules, StreamOptions(extra={"seed": 5}))
    assert stream.scale == 1
    out = list(stream(iter(frames)))
    assert len(out) == 6 and out[0].shape == (30, 34, 3) and out[0].dtype == np.uint8
    again = list(parts.stream(parts.modules, StreamOptions(extra={"seed": 5}))(frames))
    assert all(np.array_equal(a, b) for a, b in zip(out, again, strict=True))
    x = torch.stack([to_tensor(f, torch.device("cpu"), 4)[0][0] for f in frames], 0)[None]
    with torch.no_grad():
        ref = gen.unroll(x, generator=torch.Generator().manual_seed(5))
    for t, o in enumerate(out):
        assert np.array_equal(o, to_uint8(ref[:, t], (30, 34)))
    bf16 = list(parts.stream(parts.modules, StreamOptions(dtype="bf16"))(frames[:2]))
    assert len(bf16) == 2 and bf16[0].dtype == np.uint8
    with pytest.raises(ValueError, match="AtoB"):
        parts.stream(parts.modules, StreamOptions(direction="BtoA"))


def test_block_stream_emits_every_frame():
    blk = dict(T.PRESETS["pix2pix_block"]["family"], generator="resnet_1blocks", ngf=4, ndf=4)
    parts = T.build(from_dict(T.Config, blk), data_spec(frames=3, size=32))
    stream = parts.stream(parts.modules, StreamOptions())
    for n in (1, 2, 5):
        frames = [np.full((16, 16, 3), 10 * i, np.uint8) for i in range(n)]
        assert len(list(stream(frames))) == n


@pytest.mark.parametrize("preset", ["vid2vid", "timecycle_vid2vid"])
def test_vid2vid_trains_and_streams(preset):
    fam = dict(T.PRESETS[preset]["family"], generator="resnet_2blocks", ngf=8, ndf=8, motion_filters=4)
    parts = T.build(from_dict(T.Config, fam), data_spec(frames=4, size=32))
    gen = parts.modules["generator"]
    assert gen.n_prev == 2 and gen.cond_prev
    terms = _train(parts, _batch(), steps=1)
    assert {"flow", "mask", "warp", "gan_frame", "sequence"} <= set(terms)
    assert ("timecycle" in terms) == (preset == "timecycle_vid2vid")
    frames = [np.random.default_rng(i).integers(0, 256, (32, 32, 3), dtype=np.uint8) for i in range(3)]
    assert len(list(parts.stream(parts.modules, StreamOptions())(frames))) == 3
    # the composed frame is m * h + (1 - m) * warp(previous fake, flow)
    x = torch.rand(1, gen.in_channels, 32, 32) * 2 - 1
    with torch.no_grad():
        y, flow, mask = gen.net.compose(x)
    assert flow.shape == (1, 2, 32, 32) and mask.min() >= 0 and mask.max() <= 1 and y.shape == (1, 3, 32, 32)
