"""Generator vs the official StyleGAN-V networks (golden ``generator_io.npz``): every case, every recorded
intermediate, key-for-key loading of ``generator_state.npz``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.families.styleganv.convert import load_strict
from vidgan.families.styleganv.generator import Generator

ATOL = 1e-4  # golden README: frames and intermediates (values reach about 6)
CASES_FP32 = ("main", "psi07", "long")
INTERMEDIATES = (
    "ws", "motion_u_traj", "motion_u_left", "motion_u_right", "t_left", "t_right", "interp_weights", "motion_v",
    "b4_input", "b4_conv1_styles", "b4_x", "b8_x", "b4_img", "b8_img", "b16_img", "b32_img", "b64_img",
)  # fmt: skip


def _t(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _cases(gen_io) -> list[str]:
    return sorted({k.split(".")[0] for k in gen_io if "." in k})


def _run(g, gen_io, case, record=None):
    with torch.no_grad():
        return g(
            _t(gen_io["z"]),
            _t(gen_io[f"{case}.t"]),
            motion_z=_t(gen_io[f"{case}.motion_z"]),
            truncation_psi=float(gen_io[f"{case}.truncation_psi"]),
            record=record,
        )


def test_state_loads_key_for_key_in_official_order(golden_setup, gen_state):
    cfg, res, _ = golden_setup
    g = Generator(cfg, res)
    assert list(g.state_dict()) == list(gen_state)  # same names, same (construction) order
    for k, v in g.state_dict().items():
        assert tuple(v.shape) == gen_state[k].shape, k
    load_strict(g, {k: _t(v) for k, v in gen_state.items()}, "G")
    for k, v in g.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), gen_state[k], err_msg=k)


def test_strict_loader_rejects_missing_and_extra_keys(golden_setup, gen_state):
    cfg, res, _ = golden_setup
    state = {k: _t(v) for k, v in gen_state.items()}
    missing = dict(state)
    missing.pop(next(iter(missing)))
    with pytest.raises(KeyError, match="only in the model"):
        load_strict(Generator(cfg, res), missing, "G")
    with pytest.raises(KeyError, match="only in the file"):
        load_strict(Generator(cfg, res), {**state, "synthesis.noise_const": torch.zeros(1)}, "G")


def test_fixed_buffers_match_the_official_construction(golden_setup, gen_state):
    cfg, res, _ = golden_setup
    g = Generator(cfg, res).state_dict()  # freshly built, not loaded
    for k in gen_state:
        if k.endswith(("freqs", "phase_scales", "resample_filter")):
            np.testing.assert_allclose(g[k].numpy(), gen_state[k], rtol=1e-6, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("case", CASES_FP32)
def test_frames_and_intermediates(make_gen, gen_io, case):
    g = make_gen().eval()
    rec: dict = {}
    out = _run(g, gen_io, case, rec)
    ref = gen_io[f"{case}.frames"]
    np.testing.assert_allclose(out.numpy().reshape(ref.shape), ref, rtol=0, atol=ATOL)
    for name in INTERMEDIATES:
        key = f"{case}.{name}"
        assert key in gen_io, key
        mine = rec[name].detach().numpy()
        np.testing.assert_allclose(mine.reshape(gen_io[key].shape), gen_io[key], rtol=0, atol=ATOL, err_msg=key)


def test_every_case_is_covered(gen_io):
    assert set(_cases(gen_io)) == {*CASES_FP32, "mixed_precision"}


def test_mixed_precision_case_within_fp16_tolerance(make_gen, gen_io):
    """Official fp16 blocks (run on CPU) vs vidgan fp32 on CPU: golden README suggests atol 2e-2 on frames."""
    out = _run(make_gen().eval(), gen_io, "mixed_precision")
    ref = gen_io["mixed_precision.frames"]
    np.testing.assert_allclose(out.numpy().reshape(ref.shape), ref, rtol=0, atol=2e-2)


def test_train_mode_non_fused_equals_eval(make_gen, gen_io):
    g = make_gen()
    a = _run(g.eval(), gen_io, "main")
    b = _run(g.train(), gen_io, "main")  # train mode updates w_avg but psi = 1 ignores it
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_longer_noise_gives_the_same_leading_codes(make_gen, gen_io):
    """Code u_k depends on noise positions k..k+20 only: the official inference relies on it for chunks."""
    g = make_gen().eval()
    menc = g.motion_encoder
    long_z = _t(gen_io["long.motion_z"])
    n_main = gen_io["main.motion_z"].shape[1]
    length = gen_io["main.motion_u_traj"].shape[1]
    with torch.no_grad():
        a = menc.codes(long_z[:, :n_main], length)
        b = menc.codes(long_z, gen_io["long.motion_u_traj"].shape[1])[:, :length]
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    # given motion noise longer than needed is accepted and only its prefix is used
    rec_a, rec_b = {}, {}
    t = _t(gen_io["main.t"])
    z = _t(gen_io["z"])
    with torch.no_grad():
        fa = g(z, t, motion_z=_t(gen_io["main.motion_z"]), record=rec_a)
        fb = g(z, t, motion_z=long_z[:, : n_main + 7], record=rec_b)
    np.testing.assert_allclose(fa.numpy(), fb.numpy(), atol=1e-6)


def test_internal_motion_noise_draw_equals_given(make_gen, gen_io):
    g = make_gen().eval()
    z, t = _t(gen_io["z"]), _t(gen_io["main.t"])
    n = gen_io["main.motion_z"].shape[1:]
    with torch.no_grad():
        a = g(z, t, generator=torch.Generator().manual_seed(3))
        mz = torch.randn(z.shape[0], *n, generator=torch.Generator().manual_seed(3))
        b = g(z, t, motion_z=mz)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_negative_time_is_rejected(make_gen, gen_io):
    g = make_gen().eval()
    t = _t(gen_io["main.t"]).clone()
    t[0, 1] = -0.5
    with pytest.raises(ValueError, match=">= 0"):
        with torch.no_grad():
            g(_t(gen_io["z"]), t)


def test_float64_times_equal_float32(make_gen, gen_io):
    g = make_gen().eval()
    a = _run(g, gen_io, "main")
    with torch.no_grad():
        b = g(_t(gen_io["z"]), _t(gen_io["main.t"]).double(), motion_z=_t(gen_io["main.motion_z"]))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_single_video_inference_uses_folded_weights_and_matches(make_gen, gen_io):
    """One video per no-grad call folds modulation into the weights (the sampler's fast path): same frames."""
    g = make_gen().eval()
    ref = gen_io["main.frames"]
    z, t, mz = _t(gen_io["z"]), _t(gen_io["main.t"]), _t(gen_io["main.motion_z"])
    with torch.no_grad():
        for i in range(z.shape[0]):
            out = g(z[i : i + 1], t[i : i + 1], motion_z=mz[i : i + 1])
            np.testing.assert_allclose(out.numpy().reshape(ref[i].shape), ref[i], rtol=0, atol=ATOL)
