"""TimeCycleGAN-UP, CycleGAN and RecycleGAN: presets, data checks, training steps, pool state, streams, and
the -UP TimeCycle against the official ignore-0 conditional values (the same rollout code as released)."""

from __future__ import annotations

import dataclasses
import json
import types

import numpy as np
import pytest
import torch

import vidgan.families.timecycle_unpaired as U
from vidgan.core.config import from_dict
from vidgan.families.api import DataMismatch, StepContext, StreamOptions


def _cfg(preset="tiny", **kw):
    return dataclasses.replace(from_dict(U.Config, U.PRESETS[preset]["family"]), **kw)


def _data(frames=3, size=32, **kw):
    base = dict(sampler="translation", pairing="unpaired", frames=frames, size=size)
    base.update(kw)
    return types.SimpleNamespace(**base)


def _batch(b=2, t=3, s=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randint(0, 256, (b, 3, t, s, s), generator=g, dtype=torch.uint8) for k in ("source", "target")}


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


def test_presets_and_roles():
    assert U.DEFAULT_PRESET == "up" and {"up", "cyclegan", "recyclegan", "tiny"} <= set(U.PRESETS)
    up = U.build(_cfg("up"), _data(frames=5, size=64))
    assert set(up.modules) == {
        "generator",
        "generator_source",
        "discriminator",
        "discriminator_source",
        "seq_discriminator",
        "seq_discriminator_source",
        "timecycle",
        "timecycle_source",
    }
    assert up.modules["timecycle"].ignore_first == 0 and up.modules["generator"].n_prev == 1
    assert up.stream_roles == ("generator", "generator_source") and up.ema is None and not up.state
    cg = U.build(_cfg("cyclegan"), _data(frames=1, size=64))
    assert set(cg.state) == {"pool_target", "pool_source"}
    with pytest.raises(DataMismatch, match="data.frames"):
        U.build(_cfg("recyclegan"), _data(frames=5))
    with pytest.raises(DataMismatch, match="data.sampler"):
        U.build(_cfg(), _data(sampler="clips"))


def test_up_trains_every_role():
    terms = _train(U.build(_cfg(), _data()), _batch())
    expected = {"gan_target", "gan_source", "cycle", "identity", "sequence_target", "sequence_source"}
    assert expected | {"timecycle_target", "timecycle_source", "timecycle_gan_target"} <= set(terms)


def test_cyclegan_pool_and_recyclegan_train():
    cfg = _cfg("tiny", variant="cyclegan", n_frames_g=0, pool_size=3, seq_d=False, tc_weight=0.0, tc_warp_weight=0.0)
    parts = U.build(cfg, _data(frames=1))
    _train(parts, _batch(t=1), steps=3)
    pool = parts.state["pool_target"]
    assert len(pool.images) == 3
    other = U.build(cfg, _data(frames=1)).state["pool_target"]
    other.load_state_dict(pool.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(other.images, pool.images, strict=True))
    rcfg = _cfg("tiny", **{k: v for k, v in U.PRESETS["recyclegan"]["family"].items()}, predictor="resnet_1blocks")
    terms = _train(U.build(rcfg, _data(frames=3)), _batch(t=3))
    assert {"recycle", "recurrent", "gan_target", "gan_source"} <= set(terms)


def test_stream_directions_and_preview():
    parts = U.build(_cfg(), _data())
    frames = [np.random.default_rng(i).integers(0, 256, (32, 32, 3), dtype=np.uint8) for i in range(4)]
    ab = list(parts.stream(parts.modules, StreamOptions(direction="AtoB"))(frames))
    ba = list(parts.stream(parts.modules, StreamOptions(direction="BtoA"))(frames))
    assert len(ab) == len(ba) == 4 and not np.array_equal(ab[0], ba[0])
    with pytest.raises(ValueError, match="direction"):
        parts.stream(parts.modules, StreamOptions(direction="sideways"))
    p1, p2 = parts.preview(parts.modules, _batch()), parts.preview(parts.modules, _batch())
    assert p1.shape == (2, 3, 3, 32, 128) and torch.equal(p1, p2)


def test_up_timecycle_reproduces_official_ignore0(shared_dir):
    """-UP runs the conditional TimeCycle without a frame drop: the official ignore-0 values."""
    root = shared_dir / "golden" / "timecycle"
    values = json.loads((root / "values.json").read_text())["tc_conditional"]["ignore0"]
    with np.load(root / "model_p.npz") as z:
        pre = "sd/timecycle_target_motion_model_forward/"
        motion = {k[len(pre) :]: torch.from_numpy(z[k]) for k in z.files if k.startswith(pre)}
    with np.load(root / "clips.npz") as c:
        fake, src = torch.from_numpy(c["fake"]), torch.from_numpy(c["src"])
    cfg = _cfg("tiny", motion_filters=8, tc_weight=10.0, tc_warp_weight=1.0)
    tc = U.build(cfg, _data(frames=5, size=64)).modules["timecycle"]
    tc.motion.load_state_dict(motion, strict=True)
    with torch.no_grad():
        loss, parts = tc.generator_loss(tc.rollout(fake, src), return_parts=True)
    assert float(10 * parts["combined"]) == pytest.approx(values["G_timecycle_weighted"], rel=1e-4)
    assert float(parts["warp"]) == pytest.approx(values["G_warp_weighted"], rel=1e-4)


def test_import_official_generators(shared_dir, tmp_path):
    """Official -UP files (generator_target/source, target/source motion models, GPU prefixes) load key for key."""
    from vidgan.families.timecycle_unpaired.convert import import_weights

    root = shared_dir / "golden" / "timecycle"
    with np.load(root / "model_p.npz") as z:

        def state(net):
            pre = f"sd/{net}/"
            return {"module." + k[len(pre) :]: torch.from_numpy(z[k]) for k in z.files if k.startswith(pre)}

        folder = tmp_path / "up"
        folder.mkdir()
        for name in ("generator_target", "generator_source"):
            torch.save(state("generator"), folder / f"{name}.pth")
        for d in ("target", "source"):
            for w in ("forward", "backward"):
                torch.save(state(f"timecycle_target_motion_model_{w}"), folder / f"timecycle_{d}_motion_model_{w}.pth")
    ckpt = torch.load(import_weights(folder, tmp_path), weights_only=True)
    cfg = from_dict(U.Config, ckpt["config"]["family"])
    assert (cfg.generator, cfg.ngf, cfg.n_frames_g, cfg.motion_filters) == ("resnet_9blocks", 8, 1, 8)
    assert not cfg.separate_motion_models
    mods = U.build_modules(cfg, 5)
    for role, sd in ckpt["modules"].items():
        mods[role].load_state_dict(sd, strict=True)
    with np.load(root / "model_p.npz") as z, np.load(root / "clips.npz") as c:
        ref = torch.from_numpy(z["pipeline/fake_target"])
        src, noise = torch.from_numpy(c["src"]), torch.from_numpy(c["noise_prev"])
    with torch.no_grad():
        out = mods["generator_source"].unroll(src, init_prev=noise[:, :1])
    torch.testing.assert_close(out, ref, atol=2e-4, rtol=0)
