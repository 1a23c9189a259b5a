"""Both reports in a real browser: Debian's headless Chromium loads them from ``file://`` (no server).

Dependency-free (no websocket client, no Selenium): the test writes ``_check.html`` beside ``report.html`` —
the same page with a test-owned checker script injected at the top of ``<head>`` (so it sees every error from
the first byte) — runs ``chromium --headless --dump-dom --virtual-time-budget`` on it and reads the checker's
verdict from the dumped ``<html data-check="...">``. The checker waits until every ``<video>`` has
``readyState >= 2`` (or an error) and every ``<img>`` has loaded, and records resource load failures
(capturing ``error`` listener), uncaught exceptions and ``console.error`` calls. Chromium's own console log
(``--enable-logging=stderr``) must hold no ``CONSOLE`` line either: the reports log nothing when all is well.
A screenshot of the real page (not the harness) goes to the pytest tmp dir and must not be blank.

CI installs Chromium (``apt-get install -y chromium``); without a binary the tests skip elsewhere, and fail
in CI (env ``CI`` set): a skipped browser test is not a pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from vidgan.metrics.result import MetricResult
from vidgan.report import write_eval_report, write_run_report

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHECKER = """<script>
(function () {
  "use strict";
  var errors = [];
  var origError = console.error;
  console.error = function () {
    errors.push("console.error: " + Array.prototype.join.call(arguments, " "));
    return origError.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href || t.currentSrc)) {
      errors.push("failed to load <" + t.tagName.toLowerCase() + "> " + (t.currentSrc || t.src || t.href));
    } else {
      errors.push("uncaught: " + e.message);
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) { errors.push("unhandled rejection: " + e.reason); });
  function state() {
    var videos = Array.prototype.map.call(document.querySelectorAll("video"), function (v) {
      return {src: v.currentSrc, readyState: v.readyState, error: v.error ? v.error.code : null,
              networkState: v.networkState, width: v.videoWidth};
    });
    var imgs = Array.prototype.map.call(document.images, function (i) {
      return {src: i.currentSrc || i.src, complete: i.complete, naturalWidth: i.naturalWidth};
    });
    return {videos: videos, imgs: imgs, errors: errors.slice(),
            plots: document.querySelectorAll("svg.plot").length, title: document.title};
  }
  function settled(s) {
    return s.videos.every(function (v) { return v.readyState >= 2 || v.error !== null || v.networkState === 3; })
        && s.imgs.every(function (i) { return i.complete; });
  }
  var polls = 0;
  function poll() {
    var s = state();
    polls += 1;
    if (settled(s) || polls > 200) {
      s.polls = polls;
      s.settled = settled(s);
      document.documentElement.setAttribute("data-check", JSON.stringify(s));
    } else {
      setTimeout(poll, 50);
    }
  }
  window.addEventListener("load", function () { setTimeout(poll, 50); });
})();
</script>
"""


def chromium_or_skip() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    msg = "no chromium binary on PATH (Debian: apt-get install -y chromium); the browser checks need one"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def _chromium(binary: str, tmp: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [
        binary,
        "--headless",
        "--no-sandbox",  # CI runs as root in a container
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--mute-audio",
        "--hide-scrollbars",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


class _DataCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.value: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.value = dict(attrs).get("data-check")


def load_in_browser(page: Path, tmp: Path) -> dict:
    """Open ``page`` with the checker injected; returns the checker's verdict and Chromium's console lines."""
    binary = chromium_or_skip()
    text = page.read_text()
    assert "<head>" in text
    harness = page.with_name("_check.html")  # same folder: every relative URL resolves as in the real page
    harness.write_text(text.replace("<head>", "<head>\n" + CHECKER, 1))
    proc = _chromium(binary, tmp, "--virtual-time-budget=30000", "--dump-dom", harness.as_uri())
    parser = _DataCheck()
    parser.feed(proc.stdout)
    assert parser.value, f"the checker never reported (exit {proc.returncode}); stderr tail:\n{proc.stderr[-3000:]}"
    verdict = json.loads(parser.value)
    verdict["console"] = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    harness.unlink()
    return verdict


def screenshot(page: Path, tmp: Path, name: str, height: int = 2400) -> Path:
    binary = chromium_or_skip()
    out = tmp / name
    proc = _chromium(
        binary,
        tmp,
        "--virtual-time-budget=5000",
        f"--window-size=1280,{height}",
        f"--screenshot={out}",
        page.as_uri(),
    )
    assert out.is_file(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return out


def assert_page_healthy(v: dict, n_videos: int, n_imgs: int, n_plots: int) -> None:
    assert v["settled"], f"media still loading after {v['polls']} polls: {v}"
    assert v["errors"] == [], v["errors"]
    assert v["console"] == [], v["console"]
    assert len(v["videos"]) == n_videos, v["videos"]  # a failed MP4 would have been replaced by its GIF
    for video in v["videos"]:
        assert video["error"] is None and video["readyState"] >= 2 and video["width"] > 0, video
        assert video["src"].endswith(".mp4"), video
    assert len(v["imgs"]) == n_imgs, v["imgs"]
    for img in v["imgs"]:
        assert img["naturalWidth"] > 0, img
    assert v["plots"] == n_plots


def assert_not_blank(png: Path) -> None:
    from PIL import Image

    with Image.open(png) as im:
        a = np.asarray(im.convert("RGB"), dtype=np.float32)
    assert a.shape[1] == 1280 and a.std() > 10, "the screenshot is blank"


def test_run_report_in_chromium(tmp_path):
    chromium_or_skip()
    from vidgan.cli.main import main

    run = tmp_path / "run"
    rc = main(
        [
            "train",
            "tganv2:tiny",
            "train.sample_every_clips=16",
            "train.checkpoint_every_clips=32",
            "train.log_every_clips=16",
            "--run-dir",
            str(run),
            "--max-clips",
            "48",
            "--no-progress",
        ]
    )
    assert rc == 0
    page = write_run_report(run)
    n_samples = len(list((run / "samples").glob("samples-*.mp4")))
    assert n_samples == 4  # 0, 16, 32, 48 clips
    v = load_in_browser(page, tmp_path)
    # every sample grid is a playing <video> (GIF as poster only); plots: D, G, speed, other
    assert_page_healthy(v, n_videos=n_samples, n_imgs=0, n_plots=4)
    assert v["title"] == "vidgan run run"
    shot = screenshot(page, tmp_path, "run_report.png")
    assert_not_blank(shot)


def test_empty_run_report_in_chromium(tmp_path):
    chromium_or_skip()
    run = tmp_path / "fresh"
    run.mkdir()
    page = write_run_report(run)
    v = load_in_browser(page, tmp_path)
    assert_page_healthy(v, n_videos=0, n_imgs=0, n_plots=0)
    assert_not_blank(screenshot(page, tmp_path, "empty_run_report.png", height=900))


def test_eval_report_in_chromium(tmp_path):
    chromium_or_skip()
    from vidgan.metrics.vsr import evaluate_vsr_videos

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:64]
    gt = {
        name: np.stack(
            [np.stack([(xx * 8 + t * s) % 256, (yy * 8) % 256, ((xx + yy) * 4 + t * 16) % 256], -1) for t in range(10)]
        ).astype(np.uint8)
        for name, s in (("walk", 8), ("city", 16))
    }
    out = {k: np.clip(v.astype(int) + rng.integers(-20, 21, v.shape), 0, 255).astype(np.uint8) for k, v in gt.items()}
    results = evaluate_vsr_videos(out, gt, metrics=["psnr_y_teco", "tof_teco"])
    results.append(MetricResult("fvd_16_8f", 123.4, {"weights": "i3d_k400_tfhub", "num_real": 16}))
    strips = {k: {"input": gt[k][:, ::4, ::4], "output": out[k], "ground_truth": gt[k]} for k in gt}
    page = write_eval_report(tmp_path / "eval", results, strips=strips)
    v = load_in_browser(page, tmp_path)
    assert_page_healthy(v, n_videos=0, n_imgs=2, n_plots=2)  # 2 strips; per-frame plots of psnr_y_teco, tof_teco
    assert_not_blank(screenshot(page, tmp_path, "eval_report.png", height=1800))


def test_checker_sees_broken_media_and_gif_fallback_works(tmp_path):
    """The checks above are not vacuous: a damaged MP4 is reported (and the page shows its GIF instead)."""
    chromium_or_skip()
    from vidgan.io import write_video

    run = tmp_path / "damaged"
    (run / "samples").mkdir(parents=True)
    clip = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    for clips in (0, 16):
        write_video(run / "samples" / f"samples-{clips:012d}.gif", clip, fps=8)
    write_video(run / "samples" / "samples-000000000000.mp4", clip, fps=8)
    (run / "samples" / "samples-000000000016.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video" * 40)
    page = write_run_report(run)
    v = load_in_browser(page, tmp_path)
    assert v["settled"]
    assert any("samples-000000000016.mp4" in e for e in v["errors"]), v["errors"]
    assert [x["src"].rsplit("/", 1)[-1] for x in v["videos"]] == ["samples-000000000000.mp4"]  # the good one plays
    assert [i["src"].rsplit("/", 1)[-1] for i in v["imgs"]] == ["samples-000000000016.gif"]  # fallback shown
    assert v["imgs"][0]["naturalWidth"] == 32


def test_checker_sees_console_errors(tmp_path):
    chromium_or_skip()
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html><head><title>bad</title></head><body><img src="missing.png">'
        "<script>console.error('deliberate'); undefinedFunction();</script></body></html>"
    )
    v = load_in_browser(page, tmp_path)
    assert any("deliberate" in e for e in v["errors"]) and any("uncaught" in e for e in v["errors"]), v["errors"]
    assert any("missing.png" in e for e in v["errors"]), v["errors"]
    assert v["imgs"][0]["naturalWidth"] == 0
    assert any("deliberate" in line for line in v["console"]), v["console"]
