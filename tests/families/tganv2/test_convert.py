"""Chainer checkpoint import: every fixture key consumed, loud failures, round trip, import_weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from vidgan.families.tganv2 import Config
from vidgan.families.tganv2.convert import (
    chainer_state,
    config_from_chainer,
    import_weights,
    load_chainer_state,
)
from vidgan.families.tganv2.discriminator import TGANv2Discriminator
from vidgan.families.tganv2.generator import TGANv2Generator


def test_every_generator_key_consumed(gen_state, golden_cfg):
    gen = load_chainer_state(TGANv2Generator(golden_cfg), gen_state)
    back = chainer_state(gen)
    assert set(back) == set(gen_state)  # one-to-one, including the BN "N" counters
    for k, v in gen_state.items():
        np.testing.assert_array_equal(back[k], v, err_msg=k)


def test_every_discriminator_key_consumed(dis_state, golden_cfg):
    dis = load_chainer_state(TGANv2Discriminator(golden_cfg), dis_state)
    back = chainer_state(dis)
    assert set(back) == set(dis_state)
    for k, v in dis_state.items():
        np.testing.assert_array_equal(back[k], v, err_msg=k)


def test_mismatch_fails_loudly(gen_state, golden_cfg):
    bad = dict(gen_state)
    bad["block7/c1/W"] = np.zeros((1,), np.float32)
    del bad["fc/b"]
    with pytest.raises(KeyError, match=r"block7/c1/W[\s\S]*fc/b"):
        load_chainer_state(TGANv2Generator(golden_cfg), bad)
    with pytest.raises(ValueError, match="fc/W"):
        load_chainer_state(TGANv2Generator(Config(clstm_ch=16, ch=4, z_slow_dim=128)), gen_state)
    with pytest.raises(FileNotFoundError, match="generator_iter"):
        load_chainer_state(TGANv2Generator(golden_cfg), "/nonexistent/generator_iter_1.npz")


def test_config_inferred_from_checkpoint(gen_state, golden, golden_cfg):
    """Widths inferred from the state = the official constructor arguments recorded in config.json."""
    args = json.loads((golden / "config.json").read_text())["effective_constructor_args"]["generator"]["args"]
    cfg = config_from_chainer(gen_state)
    for field in ("clstm_ch", "ch", "t_size", "n_layers", "z_slow_dim", "out_channels"):
        assert getattr(cfg, field) == args[field], field
    assert cfg.n_pre_blocks == golden_cfg.n_pre_blocks
    # the test suite's fixed GOLDEN_CFG (conftest) is the recorded configuration
    for field in ("clstm_ch", "ch", "t_size", "n_frames"):
        assert getattr(golden_cfg, field) == args[field], field


def test_bn_counter_N(gen_state, gen_io, make_gen):
    """Chainer's BN ``N`` (fine-tune counter, not a batch count; README): every BN of the state has one,
    a training forward leaves it unchanged (``train/bn_running_after/*/N``), and vidgan's exported state
    after that forward writes the recorded N -- not its own ``num_batches_tracked`` -- next to running
    statistics that match the recorded post-step ones."""
    bn_names = {k.removeprefix("train/bn_count/") for k in gen_io if k.startswith("train/bn_count/")}
    assert {k.removesuffix("/N") for k in gen_state if k.endswith("/N")} == bn_names
    gen = make_gen().train()
    with torch.no_grad():
        gen.levels(torch.from_numpy(gen_io["z"]), gen_io["train/phases"].tolist())
    assert all(int(m.num_batches_tracked) == 1 for m in gen.modules() if isinstance(m, torch.nn.BatchNorm2d))
    back = chainer_state(gen)
    for bn in bn_names:
        after = f"train/bn_running_after/{bn}"
        assert gen_state[f"{bn}/N"].dtype == back[f"{bn}/N"].dtype == gen_io[f"{after}/N"].dtype, bn
        assert int(gen_io[f"{after}/N"]) == int(gen_state[f"{bn}/N"]), bn  # unchanged by training
        assert int(back[f"{bn}/N"]) == int(gen_io[f"{after}/N"]), bn
        for stat in ("avg_mean", "avg_var"):  # README: 4e-5 for the running stats after a train step
            np.testing.assert_allclose(back[f"{bn}/{stat}"], gen_io[f"{after}/{stat}"], atol=4e-5, rtol=0)
            # the step moved them: the export is the updated statistics, not the loaded ones
            assert not np.array_equal(gen_io[f"{after}/{stat}"], gen_state[f"{bn}/{stat}"])


def test_bn_counter_N_is_ignored_on_load(gen_state, golden_cfg):
    """A checkpoint with another N (fine-tuned) loads to the same model: N carries no meaning in vidgan."""
    other = {k: (v + 1 if k.endswith("/N") else v) for k, v in gen_state.items()}
    a = load_chainer_state(TGANv2Generator(golden_cfg), gen_state).state_dict()
    b = load_chainer_state(TGANv2Generator(golden_cfg), other).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_import_weights(golden, tmp_path, suffix, gen_io):
    out = import_weights(golden / "generator_state.npz", tmp_path / f"g{suffix}")
    assert out.is_file() and not list(tmp_path.glob("*.tmp"))
    state = load_file(out) if suffix == ".safetensors" else torch.load(out, weights_only=True)["modules"]["generator"]
    gen = TGANv2Generator(config_from_chainer(np.load(golden / "generator_state.npz")))
    gen.load_state_dict(state)
    gen.eval()
    with torch.no_grad():
        x = gen.dense(torch.from_numpy(gen_io["z"]))
    frames = gen_io["test/frames_stored"].tolist()
    # README "Suggested comparison": atol 2e-4 on the test output
    np.testing.assert_allclose(x[:, :, frames].numpy(), gen_io["test/x_dense_subset"], atol=2e-4, rtol=0)


def test_import_discriminator_weights(golden, tmp_path, dis_state):
    out = import_weights(golden / "discriminator_state.npz", tmp_path / "d.safetensors")
    state = load_file(out)
    assert len(state) == len(dis_state)
    assert state["levels.3.l6.weight"].shape == dis_state["level3/l6/W"].shape
    torch.testing.assert_close(state["levels.3.l6.weight"], torch.from_numpy(dis_state["level3/l6/W"]), rtol=0, atol=0)
