"""Config / PRESETS / build / Objective contract specifics of the tecogan family."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import vidgan.families.tecogan as T
from vidgan.core.config import from_dict
from vidgan.data.config import DataConfig
from vidgan.families.api import StepContext, count_parameters

D32 = DataConfig(sampler="paired", size=32, frames=3)


def _cfg(preset: str, **kw) -> T.Config:
    return dataclasses.replace(from_dict(T.Config, T.PRESETS[preset]["family"]), **kw)


def _batch(b=2, t=3, h=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        "lr": torch.rand(b, 3, t, h, h, generator=g) * 2 - 1,
        "hr": torch.rand(b, 3, t, 4 * h, 4 * h, generator=g) * 2 - 1,
    }


def test_presets():
    assert T.DEFAULT_PRESET == "frvsr" and {"frvsr", "tecogan", "tiny"} <= set(T.PRESETS)
    frvsr = T.build(_cfg("frvsr"), DataConfig(sampler="paired", size=128, frames=10))
    assert set(frvsr.modules) == {"generator"} and [p.name for p in frvsr.objective.phases] == ["G"]
    assert count_parameters(frvsr.modules["generator"]) == 2_589_093
    teco = T.build(_cfg("tecogan"), DataConfig(sampler="paired", size=128, frames=10))
    assert count_parameters(teco.modules["generator"]) == 3_032_229
    assert count_parameters(teco.modules["discriminator"]) == 819_457
    assert [p.name for p in teco.objective.phases] == ["D", "G"] and teco.ema is None
    opt = teco.optimizers["G"]
    assert opt.defaults["lr"] == 5e-5 and opt.defaults["betas"] == (0.9, 0.999)
    assert T.PRESETS["frvsr"]["data"]["sampler"] == "paired"


def test_build_errors_name_the_field():
    with pytest.raises(ValueError, match="data.size"):
        T.build(_cfg("tiny"), DataConfig(sampler="paired", size=30, frames=3))
    with pytest.raises(ValueError, match="data.frames"):
        T.build(_cfg("tiny"), DataConfig(sampler="paired", size=32, frames=1))
    with pytest.raises(ValueError, match="compat"):
        T.build(_cfg("tiny", compat="xx"), DataConfig(sampler="paired", size=32, frames=3))
    with pytest.raises(ValueError, match="vgg_weights"):
        parts = T.build(_cfg("tiny", vgg_weights=""), DataConfig(sampler="paired", size=32, frames=3))
        parts.objective("G", _batch(), parts.modules, StepContext(0, 0, torch.Generator()))


def test_official_loss_conventions():
    """Default recipe: content = channel-sum L2 in [-1, 1] (= 12 x the [0,1] MSE), ping-pong L1 in [-1, 1]."""
    cfg = _cfg("tiny", vgg_weight=0.0, adv_weight=0.0, dfeat_weight=0.0)
    parts = T.build(cfg, DataConfig(sampler="paired", size=32, frames=3))
    obj, gen = parts.objective, parts.modules["generator"]
    b = _batch()
    terms = obj("G", b, parts.modules, StepContext(0, 0, torch.Generator()))
    lr, hr = obj.prepare(b)
    with torch.no_grad():
        out = gen.forward_sequence(lr)["hr"]
    torch.testing.assert_close(terms["content"].detach(), 12 * (out - hr).square().mean(), rtol=1e-5, atol=0)
    assert out.shape[2] == 5  # ping-pong 3 -> 5 frames
    pp = (out[:, :, :2] - out[:, :, 3:].flip(2)).abs().mean() * 2 * 0.5
    torch.testing.assert_close(terms["pingpong"].detach(), pp, rtol=1e-5, atol=0)


def test_dbalance_gate_and_state_round_trip():
    cfg = _cfg("tiny", balance_threshold=-1e9)  # never update D
    parts = T.build(cfg, DataConfig(sampler="paired", size=32, frames=3))
    ctx = StepContext(0, 0, torch.Generator())
    assert parts.objective("D", _batch(), parts.modules, ctx) == {}
    assert ctx.logs["D/updated"] == 0.0
    st = parts.objective.state_dict()
    assert st["d_skips"] == 1 and st["balance_ema"] == pytest.approx(0.01 * ctx.logs["D/t_balance"])
    other = T.build(_cfg("tiny"), DataConfig(sampler="paired", size=32, frames=3)).objective
    other.load_state_dict(st)
    assert other.state_dict() == st
    # EMA gate: starts at 0 < 0.4, so D trains on the first step
    parts = T.build(_cfg("tiny"), DataConfig(sampler="paired", size=32, frames=3))
    terms = parts.objective("D", _batch(), parts.modules, StepContext(0, 0, torch.Generator()))
    assert set(terms) == {"real", "fake"}


def test_preview_shape_and_range():
    parts = T.build(_cfg("tiny"), DataConfig(sampler="paired", size=32, frames=3))
    out = parts.preview(parts.modules, _batch())
    assert out.shape == (2, 3, 3, 32, 96) and out.min() >= -1 and out.max() <= 1


def test_init_from_grows_frvsr_checkpoint(tmp_path):
    torch.manual_seed(0)
    small = T.build(_cfg("tiny", num_blocks=2, discriminator=False), D32).modules["generator"]
    path = tmp_path / "small.pt"
    torch.save({"modules": {"generator": small.state_dict()}, "config": {"family": {}}}, path)
    big = T.build(_cfg("tiny", num_blocks=3, init_from=str(path)), D32).modules["generator"]
    lr = torch.rand(1, 3, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(big.forward_sequence(lr)["hr"], small.forward_sequence(lr)["hr"], atol=1e-6, rtol=0)
