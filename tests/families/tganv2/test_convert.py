"""Chainer checkpoint import: every fixture key consumed, loud failures, round trip, import_weights."""

from __future__ import annotations

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
    assert len(gen_state) == 129
    gen = load_chainer_state(TGANv2Generator(golden_cfg), gen_state)
    back = chainer_state(gen)
    assert set(back) == set(gen_state)  # one-to-one, including the BN "N" counters
    for k, v in gen_state.items():
        np.testing.assert_array_equal(back[k], v, err_msg=k)


def test_every_discriminator_key_consumed(dis_state, golden_cfg):
    assert len(dis_state) == 128
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


def test_config_inferred_from_checkpoint(gen_state):
    cfg = config_from_chainer(gen_state)
    assert (cfg.clstm_ch, cfg.ch, cfg.t_size, cfg.n_layers, cfg.n_pre_blocks, cfg.z_slow_dim) == (
        16,
        4,
        3,
        1,
        3,
        256,
    )


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_import_weights(golden, tmp_path, suffix, gen_io):
    out = import_weights(golden / "generator_state.npz", tmp_path / f"g{suffix}")
    assert out.is_file() and not list(tmp_path.glob("*.tmp"))
    state = load_file(out) if suffix == ".safetensors" else torch.load(out)["generator"]
    gen = TGANv2Generator(config_from_chainer(np.load(golden / "generator_state.npz")))
    gen.load_state_dict(state)
    gen.eval()
    with torch.no_grad():
        x = gen.dense(torch.from_numpy(gen_io["z"]))
    np.testing.assert_allclose(x[:, :, [0, 5, 10, 15]].numpy(), gen_io["test/x_dense_subset"], atol=2e-4)


def test_import_discriminator_weights(golden, tmp_path):
    out = import_weights(golden / "discriminator_state.npz", tmp_path / "d.safetensors")
    state = load_file(out)
    assert len(state) == 128 and state["levels.3.l6.weight"].shape == (1, 64)
