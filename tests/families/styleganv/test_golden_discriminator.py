"""Discriminator vs the official StyleGAN-V D (golden ``discriminator_io.npz``): logits and intermediates of
every case (integer and fractional times, strided mbstd groups), key-for-key loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.families.styleganv.discriminator import Discriminator

CASES_FP32 = ("int_t", "frac_t", "mbstd8")
INTERMEDIATES = ("t_embs", "cmap", "b32_x", "b16_x", "b8_x", "epilogue_mbstd", "epilogue_out")


def _t(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _run(d, dis_io, case, record=None):
    v = _t(dis_io[f"{case}.videos"])
    with torch.no_grad():
        return d(v.reshape(-1, *v.shape[2:]), _t(dis_io[f"{case}.t"]), record=record)


def test_state_loads_key_for_key_in_official_order(golden_setup, dis_state, make_dis):
    cfg, res, frames = golden_setup
    assert list(Discriminator(cfg, res, frames).state_dict()) == list(dis_state)
    d = make_dis()
    for k, v in d.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), dis_state[k], err_msg=k)


def test_fixed_buffers_match_the_official_construction(golden_setup, dis_state):
    cfg, res, frames = golden_setup
    d = Discriminator(cfg, res, frames).state_dict()
    for k in dis_state:
        if k.endswith(("fourier_coefs", "resample_filter")):
            np.testing.assert_allclose(d[k].numpy(), dis_state[k], rtol=1e-6, err_msg=k)


def test_every_case_is_covered(dis_io):
    assert {k.split(".")[0] for k in dis_io} == {*CASES_FP32, "mixed_precision"}


@pytest.mark.parametrize("case", CASES_FP32)
def test_logits_and_intermediates(make_dis, dis_io, case):
    rec: dict = {}
    logits = _run(make_dis().eval(), dis_io, case, rec)
    np.testing.assert_allclose(logits.numpy(), dis_io[f"{case}.logits"], rtol=0, atol=1e-5)
    for name in INTERMEDIATES:
        key = f"{case}.{name}"
        # b32_x is named after the block *before* the concat (golden README); locate it by its shape
        mine = rec[name] if name in rec else None
        if name == "b32_x":
            before = [k for k in rec if k.endswith("_x") and rec[k].shape == dis_io[key].shape]
            assert before, key
            mine = rec[before[0]]
        np.testing.assert_allclose(mine.detach().numpy(), dis_io[key], rtol=0, atol=1e-4, err_msg=key)


def test_mixed_precision_case_within_fp16_tolerance(make_dis, dis_io):
    logits = _run(make_dis().eval(), dis_io, "mixed_precision")
    np.testing.assert_allclose(logits.numpy(), dis_io["mixed_precision.logits"], rtol=0, atol=2e-3)


def test_only_time_differences_matter(make_dis, dis_io):
    d = make_dis().eval()
    v = _t(dis_io["int_t.videos"])
    t = _t(dis_io["int_t.t"])
    with torch.no_grad():
        a = d(v.reshape(-1, *v.shape[2:]), t)
        b = d(v.reshape(-1, *v.shape[2:]), t + 100)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_half_to_even_embedding_index_and_unrounded_fourier(make_dis):
    d = make_dis().eval()
    enc = d.time_encoder
    t = torch.tensor([[0.0, 2.5, 9.0], [0.0, 1.5, 2.5]])
    emb = enc(t).reshape(2, 2, -1)
    width = enc.const_embed.embedding_dim
    table = enc.const_embed.weight.detach()
    for row, gaps in zip(emb, [(2.5, 6.5), (1.5, 1.0)]):
        for vec, gap in zip(row, gaps):
            idx = int(torch.round(torch.tensor(gap)))  # torch: half to even
            torch.testing.assert_close(vec[:width], table[idx])
            w = enc.time_encoder.fourier_coefs[0] * gap
            torch.testing.assert_close(vec[width:], torch.cat([w.sin(), w.cos()]))
    assert int(torch.round(torch.tensor(2.5))) == 2 and int(torch.round(torch.tensor(6.5))) == 6


def test_gaps_outside_the_embedding_are_rejected(make_dis, dis_io):
    d = make_dis().eval()
    v = _t(dis_io["int_t.videos"])
    t = _t(dis_io["int_t.t"]).flip(1)  # unsorted -> negative gaps
    with pytest.raises(ValueError, match="time gaps"):
        d(v.reshape(-1, *v.shape[2:]), t)
