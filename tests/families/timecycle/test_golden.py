"""Official checkpoints import key for key, and one whole forward + D + G pass of TimeCycleGAN-P (and its
ping-pong variant) reproduces every logged loss of the official code."""

from __future__ import annotations

import pytest
import torch

import vidgan.families.timecycle as T
from vidgan.core.config import from_dict
from vidgan.families.timecycle.convert import import_weights, read_state

from .conftest import data_spec


def _parts(ckpt_path):
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    cfg = from_dict(T.Config, ckpt["config"]["family"])
    parts = T.build(cfg, data_spec(frames=ckpt["config"]["data"]["frames"]))
    for role, state in ckpt["modules"].items():
        parts.modules[role].load_state_dict(state, strict=True)
    return cfg, parts, ckpt


def _pass(golden_tc, parts):
    c = {k: golden_tc.t("clips.npz", k) for k in ("src", "real", "noise_prev")}
    obj, mods = parts.objective, parts.modules
    with torch.no_grad():
        fake = mods["generator"].unroll(c["src"], init_prev=c["noise_prev"][:, :1])
        r = obj.rollout(mods, fake, c["src"])
        d, dl = obj.d_terms(mods, c["src"], c["real"], fake, r)
        g, gl = obj.g_terms(mods, c["src"], c["real"], fake, r)
    return fake, d, dl, g, gl


def _close(a, b):
    assert float(a) == pytest.approx(float(b), rel=1e-4)


def test_import_model_p(official, tmp_path, golden_tc):
    out = import_weights(official["model_p"], tmp_path)
    assert out == tmp_path / "model_p.pt"
    cfg, parts, ckpt = _parts(out)
    exp = golden_tc.config["model_p"]["get_model"]
    assert (cfg.generator, cfg.ngf, cfg.ndf) == (
        exp["generator_architecture"],
        exp["generator_filters"],
        exp["discriminator_filters"],
    )
    assert cfg.n_frames_d == exp["sequence_discriminator_kwargs"]["n_frames_D"] and cfg.temporal_scales == 1
    assert cfg.motion_filters == exp["timecycle_kwargs"]["timecycle_motion_model_filters"]
    assert not cfg.separate_motion_models  # the two identical motion files are tied to one module
    assert set(ckpt["modules"]) == {"generator", "discriminator", "seq_discriminator", "timecycle"}
    assert not any(k.startswith(("module.", "model0")) for s in ckpt["modules"].values() for k in s)
    # every official tensor arrives, key for key
    gen = read_state(official["model_p"] / "generator.pth")
    for k, v in gen.items():
        assert torch.equal(ckpt["modules"]["generator"][f"net.{k}"], v)
    motion = read_state(official["model_p"] / "timecycle_target_motion_model_backward.pth")
    assert all(torch.equal(ckpt["modules"]["timecycle"][f"motion.{k}"], v) for k, v in motion.items())
    # distinct motion files give separate models
    sep = tmp_path / "sep"
    sep.mkdir()
    for f in official["model_p"].glob("*.pth"):
        state = read_state(f)
        if f.stem.endswith("backward"):
            state = {k: v + 1 for k, v in state.items()}
        torch.save(state, sep / f.name)
    cfg2, parts2, _ = _parts(import_weights(sep, tmp_path / "sep.pt"))
    assert cfg2.separate_motion_models and set(parts2.modules["timecycle"].state_dict()) >= {
        "motion_forward.model.1.weight"
    }


def test_model_p_whole_pass(official, tmp_path, golden_tc):
    _, parts, _ = _parts(import_weights(official["model_p"], tmp_path / "p.pt"))
    fake, d, dl, g, gl = _pass(golden_tc, parts)
    torch.testing.assert_close(fake, golden_tc.t("model_p.npz", "pipeline/fake_target"), atol=2e-4, rtol=0)
    v = golden_tc.values["model_p"]["pipeline_losses"]
    _close(sum(d.values()), v["Discriminator"])
    _close(d["frame"], v["Discriminator/Frame"])
    _close(dl["D/frame/real"], v["Discriminator/Frame/Real"])
    _close(dl["D/frame/fake"], v["Discriminator/Frame/Fake"])
    _close(d["sequence"], v["Discriminator/Sequence/0"])
    _close(dl["D/sequence/real/0"], v["Discriminator/Sequence/0/Real"])
    _close(dl["D/sequence/fake/0"], v["Discriminator/Sequence/0/Fake"])
    _close(d["timecycle"], v["Discriminator/Timecycle/target"])
    _close(dl["D/timecycle/real"], v["Discriminator/Timecycle/target/Frame//Real"])
    for ours, theirs in (
        ("pred_long", "Long/Pred"),
        ("pred_skip", "Skip/Pred"),
        ("rec_long", "Long/Rec"),
        ("rec_skip", "Skip/Rec"),
    ):
        _close(dl[f"D/timecycle/fake_{ours}"], v[f"Discriminator/Timecycle/target/Frame//Fake/{theirs}"])
        _close(gl[f"G/timecycle_gan/{ours}"], v[f"Generator/Timecycle/target/GAN/Frame//{theirs}"])
    _close(sum(g.values()), v["Generator"])
    _close(g["gan_frame"], v["Generator/GAN/Frame"])
    _close(gl["G/fm_frame"], v["Generator/FeatureMatching/Frame"])
    _close(gl["G/l1"], v["Generator/L1"])
    _close(gl["G/sequence/gan/0"], v["Generator/GAN/Sequence/0"])
    _close(gl["G/sequence/fm/0"], v["Generator/FeatureMatching/Sequence/0"])
    _close(g["timecycle"] + g["timecycle_gan"], v["Generator/Timecycle/target"])
    _close(g["timecycle_gan"], v["Generator/Timecycle/target/GAN/Frame/"])
    for ours, theirs in (
        ("cycle_long", "Long"),
        ("cycle_skip", "Skip"),
        ("temp_long", "Long/Temp"),
        ("temp_skip", "Skip/Temp"),
    ):
        _close(gl[f"G/timecycle/{ours}"], v[f"Generator/Timecycle/target/Timecycle/{theirs}"])
    _close(gl["G/timecycle/combined"], v["Generator/Timecycle/target/Timecycle"])
    _close(gl["G/timecycle/warp_logged"], v["Generator/Timecycle/target/Warp"])
    assert "vgg" not in g  # VGG skipped at weight 0 (the official code computes it anyway)


def test_pingpong_whole_pass(official, tmp_path, golden_tc):
    cfg, parts, _ = _parts(import_weights(official["model_p_pingpong"], tmp_path / "pp.pt", tc_mode="pingpong"))
    assert cfg.tc_mode == "pingpong" and "timecycle" not in parts.modules
    fake, d, dl, g, gl = _pass(golden_tc, parts)
    torch.testing.assert_close(fake, golden_tc.t("model_p_pingpong.npz", "pipeline/fake_target"), atol=2e-4, rtol=0)
    v = golden_tc.values["tc_pingpong"]["pipeline_losses"]
    _close(sum(d.values()), v["Discriminator"])
    _close(d["timecycle"], v["Discriminator/Timecycle/target"])
    _close(sum(g.values()), v["Generator"])
    _close(g["timecycle"] + g["timecycle_gan"], v["Generator/Timecycle/target"])
    _close(gl["G/timecycle/temp_long"], v["Generator/Timecycle/target/Timecycle/Long/Temp"])
