"""write_eval_report: metric table with protocols, per-frame VSR plots, input / output / ground-truth strips."""

from __future__ import annotations

import json
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidgan.metrics.result import MetricResult
from vidgan.report import write_eval_report
from vidgan.report.eval_report import MIN_PANEL_WIDTH, STRIP_FRAMES


class Tags(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]


def gradient_video(t: int = 10, h: int = 48, w: int = 64, speed: int = 8) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack(
        [np.stack([(xx * 8 + k * speed) % 256, (yy * 8) % 256, ((xx + yy) * 4 + k * 16) % 256], -1) for k in range(t)]
    ).astype(np.uint8)


@pytest.fixture(scope="module")
def vsr():
    from vidgan.metrics.vsr import evaluate_vsr_videos

    rng = np.random.default_rng(0)
    gt = {"walk": gradient_video(speed=8), "city": gradient_video(speed=16)}
    out = {k: np.clip(v.astype(int) + rng.integers(-20, 21, v.shape), 0, 255).astype(np.uint8) for k, v in gt.items()}
    results = evaluate_vsr_videos(out, gt, metrics=["psnr_y_teco", "ssim_y_teco", "tof_teco"])
    return gt, out, results


def test_table_plots_strips_and_files(tmp_path, vsr):
    gt, out, results = vsr
    fvd = MetricResult("fvd_16_8f", 123.4, {"weights": "i3d_k400_tfhub", "num_real": 16, "frames": 8})
    is_dict = {"metric": "is_c3d_ucf101", "value": 12.5, "protocol": {"splits": 10}}
    strips = {k: {"input": gt[k][:, ::4, ::4], "output": out[k], "ground_truth": gt[k]} for k in gt}
    path = write_eval_report(tmp_path / "eval", [*results, fvd, is_dict], strips=strips)
    assert path == tmp_path / "eval" / "report.html"
    text = path.read_text()
    page = Tags(text)
    # every referenced file exists, nothing external
    for a in page.tags:
        for k in ("src", "href"):
            url = a[1].get(k)
            if url and not url.startswith("#"):
                assert "://" not in url, url
                assert (path.parent / urllib.parse.unquote(url)).is_file(), url
    # metric table: protocol names, values, protocols (per-frame tables only in results.json)
    rows = re.findall(r"<tr><td><code>([^<]+)</code></td><td class=\"num\">([^<]+)</td>", text)
    assert rows == [(r.metric, f"{r.value:.6g}") for r in results] + [
        ("fvd_16_8f", "123.4"),
        ("is_c3d_ucf101", "12.5"),
    ]
    assert "weights=i3d_k400_tfhub, num_real=16, frames=8" in text
    assert "convention=TecoGAN official metrics.py" in text
    assert "per_frame" not in text
    doc = json.loads((tmp_path / "eval" / "report_files" / "results.json").read_text())
    assert doc["results"][0] == results[0].to_dict() and doc["results"][-1]["metric"] == "is_c3d_ucf101"
    # per-frame plots from the VSR protocols: one per metric, one line per sequence, a point per value
    assert sorted(a["id"] for a in page.find("svg")) == ["plot-psnr_y_teco", "plot-ssim_y_teco", "plot-tof_teco"]
    lines = page.find("polyline")
    assert len(lines) == 6
    for r in results:
        for seq, vals in r.protocol["per_frame"].items():
            assert any(
                a["data-key"] == seq and int(a["data-n"]) == len(vals) == len(a["points"].split()) for a in lines
            )
    # frame numbers follow the TecoGAN protocol: spatial metrics from frame cutfr = 2, temporal ones from 3
    psnr_svg = text.split('id="plot-psnr_y_teco"')[1].split("</svg>")[0]
    tof_svg = text.split('id="plot-tof_teco"')[1].split("</svg>")[0]
    assert re.findall(r"walk = [^<]* at frame (\d+)", psnr_svg)[0] == "2"
    assert re.findall(r"walk = [^<]* at frame (\d+)", tof_svg)[0] == "3"
    # strips: one PNG per sequence
    imgs = page.find("img")
    assert [a["src"] for a in imgs] == ["report_files/strip-000-walk.png", "report_files/strip-001-city.png"]


def test_strip_pixels(tmp_path, vsr):
    """Columns input | output | ground truth, rows = frames 0, 3, 6, 9; small frames enlarged (nearest)."""
    gt, out, _ = vsr
    lr = gt["walk"][:, ::4, ::4]  # 12 x 16
    write_eval_report(tmp_path, [], strips={"walk": {"lr": lr, "sr": out["walk"], "gt": gt["walk"]}})
    img = np.asarray(Image.open(tmp_path / "report_files" / "strip-000-walk.png").convert("RGB"))
    zoom = -(-MIN_PANEL_WIDTH // 64)  # 64 px wide frames -> 2x
    th, tw, pad, label = 48 * zoom, 64 * zoom, 4, 16
    assert img.shape == (label + STRIP_FRAMES * (th + pad), 3 * tw + 2 * pad, 3)
    frames = [0, 3, 6, 9]
    for r, f in enumerate(frames):
        y = label + r * (th + pad)
        panels = [img[y : y + th, c * (tw + pad) : c * (tw + pad) + tw] for c in range(3)]
        assert np.array_equal(panels[0], lr[f].repeat(4 * zoom, 0).repeat(4 * zoom, 1))
        assert np.array_equal(panels[1], out["walk"][f].repeat(zoom, 0).repeat(zoom, 1))
        assert np.array_equal(panels[2], gt["walk"][f].repeat(zoom, 0).repeat(zoom, 1))
    assert "walk: frames 0, 3, 6, 9 (top to bottom)" in (tmp_path / "report.html").read_text()


def test_strips_from_paths_and_explicit_per_frame(tmp_path):
    from vidgan.io import write_video

    gt = gradient_video(t=6)
    write_video(tmp_path / "gt_frames", gt, format="frames")
    write_video(tmp_path / "out.mp4", gt, fps=8)
    per_frame = {"lpips_teco": {"seq": [0.1, 0.2, 0.15]}, "psnr_rgb": [30.0, 31.0]}
    path = write_eval_report(
        tmp_path / "rep",
        [MetricResult("lpips_teco", 0.15, {"cutfr": 2, "frames": "2..N-3"})],
        per_frame=per_frame,
        strips={"seq": {"output": tmp_path / "out.mp4", "ground_truth": str(tmp_path / "gt_frames")}},
    )
    page = Tags(path.read_text())
    assert sorted(a["id"] for a in page.find("svg")) == ["plot-lpips_teco", "plot-psnr_rgb"]
    assert sorted(a["data-n"] for a in page.find("polyline")) == ["2", "3"]
    img = Image.open(tmp_path / "rep" / "report_files" / "strip-000-seq.png")
    assert img.size == (2 * 128 + 4, 16 + 4 * (96 + 4))  # two columns, frames 0, 2, 3, 5


def test_rewrite_removes_stale_strips_and_keeps_no_temporaries(tmp_path):
    v = gradient_video(t=4)
    write_eval_report(tmp_path, [], strips={"a": {"output": v}, "b": {"output": v}})
    write_eval_report(tmp_path, [], strips={"b": {"output": v}})
    assert sorted(p.name for p in (tmp_path / "report_files").iterdir()) == [
        "report.css",
        "report.js",
        "results.json",
        "strip-000-b.png",
    ]
    assert "no per-frame values" in (tmp_path / "report.html").read_text()
    assert not [p for p in tmp_path.rglob(".*")]


@pytest.mark.parametrize(
    "strips, match",
    [
        ({"s": {"output": np.zeros((2, 8, 8, 3), np.float32)}}, r"strips\['s'\]\.output: expected uint8 RGB frames"),
        ({"s": {"prediction": np.zeros((2, 8, 8, 3), np.uint8)}}, r"strips\['s'\]\.prediction: unknown panel — use"),
        ({"s": {}}, r"strips\['s'\]: no frames given — pass at least one"),
        (
            {"s": {"output": "/no/such/video.mp4"}},
            r"strips\['s'\]\.output: /no/such/video\.mp4: missing .* — pass an existing video",
        ),
    ],
)
def test_bad_strips_are_one_clear_error_and_write_nothing(tmp_path, strips, match):
    with pytest.raises(ValueError, match=match) as e:
        write_eval_report(tmp_path / "rep", [], strips=strips)
    assert "\n" not in str(e.value)
    assert not (tmp_path / "rep").exists()


def test_bad_results_and_per_frame(tmp_path):
    with pytest.raises(ValueError, match=r"results\[0\]: expected a MetricResult .* — pass"):
        write_eval_report(tmp_path, [42])
    with pytest.raises(ValueError, match=r"per_frame\['psnr_rgb'\]\['a'\]: not a list of numbers — pass"):
        write_eval_report(tmp_path, [], per_frame={"psnr_rgb": {"a": ["x"]}})
    with pytest.raises(NotADirectoryError, match="not a folder"):
        (tmp_path / "file").write_text("")
        write_eval_report(tmp_path / "file", [])
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["file"]
