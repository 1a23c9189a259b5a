"""tOF/tLP (TecoGAN protocol): golden per-pair tOF, identities, known-motion sanity."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from vidgan.metrics.temporal import farneback_flow, grey, tlp_teco, tof_teco


def _frame(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_golden_per_pair_tof(shared_dir):
    golden = json.loads((shared_dir / "golden/tecogan/metrics_golden.json").read_text())
    assert golden["protocol"]["farneback_params"] == {
        "pyr_scale": 0.5,
        "levels": 3,
        "winsize": 15,
        "iterations": 3,
        "poly_n": 5,
        "poly_sigma": 1.2,
        "flags": 0,
    }
    gt_dir = shared_dir / "data/vid4_calendar_lr"
    out_root = shared_dir / "data/vid4_calendar_lr_metric_outputs"
    for name, sub in (("A", "A_gauss7x7_s1.0"), ("B", "B_bicubic_roundtrip_padded")):
        pairs = golden["protocol"][f"temporal_pairs_{name}"]
        need = sorted({i for p in pairs for i in p})
        gt = {i: _frame(gt_dir / f"{i + 1:04d}.png") for i in need}
        # crop-to-GT (top-left) happens before the flow, the border crop after it
        out = {i: _frame(out_root / sub / f"{i + 1:04d}.png")[:144, :180] for i in need}
        vals = [tof_teco(gt[a], gt[b], out[a], out[b]) for a, b in pairs]
        np.testing.assert_allclose(vals, golden["per_frame"][name]["tOF"], rtol=0, atol=1e-6)


def test_tof_identities_and_motion():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(base).resize((128, 96), Image.BILINEAR))  # smooth a little
    static = [base, base]
    assert tof_teco(*static, *static) == 0.0  # static video, identical output
    # identical videos with motion: 0 as well
    moved = np.roll(base, 2, axis=1)
    assert tof_teco(base, moved, base, moved) == 0.0
    # a static output against a moving ground truth: roughly the motion magnitude
    flow = farneback_flow(grey(base), grey(moved))
    assert np.median(flow[16:-16, 16:-16, 0]) == pytest.approx(2.0, abs=0.1)
    assert tof_teco(base, moved, base, base) > 1.0


def test_tlp_formula():
    d = {("a", "b"): 0.25, ("c", "d"): 0.125}
    assert tlp_teco(lambda x, y: d[(x, y)], "a", "b", "c", "d") == pytest.approx(12.5)
