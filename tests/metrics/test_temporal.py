"""tOF/tLP (TecoGAN protocol): golden per-pair tOF, identities, known-motion sanity."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from vidgan.metrics.temporal import TofPairs, farneback_flow, grey, tlp_teco, tof_teco, tof_teco_sequence


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
        # the sequence path (greys once per frame, flows on 3 threads) gives the very same numbers
        assert [b - a for a, b in pairs] == [1] * len(pairs) and pairs[0][0] == need[0]
        seq = tof_teco_sequence([gt[i] for i in need], [out[i] for i in need], workers=3)
        assert seq == vals


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


def test_tof_pairs_threads_match_inline_and_bound_memory():
    rng = np.random.default_rng(2)
    base = np.asarray(Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).resize((112, 80)))
    gt = [np.roll(base, k, axis=1) for k in range(9)]
    out = [np.roll(base, (k * 3) // 2, axis=0) for k in range(9)]
    ref = [tof_teco(gt[t - 1], gt[t], out[t - 1], out[t]) for t in range(1, 9)]
    assert len(set(ref)) > 4 and all(v > 0 for v in ref)
    for w in (1, 2, 4):
        assert tof_teco_sequence(gt, out, workers=w) == ref
    g, o = [grey(f) for f in gt], [grey(f) for f in out]
    with TofPairs(workers=2) as tof:
        for t in range(1, 9):
            tof.submit(g[t - 1], g[t], o[t - 1], o[t])
            assert len(tof._pending) <= 4  # 2 x workers pairs in flight at most
        assert tof.values() == ref
    with pytest.raises(ValueError, match="same size"):
        TofPairs(workers=2).submit(g[0], g[1][:8], o[0], o[1])
    with pytest.raises(ValueError, match="workers"):
        TofPairs(workers=0)
    with pytest.raises(ValueError, match="ground-truth frames"):
        tof_teco_sequence(gt, out[:3])
