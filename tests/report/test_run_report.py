"""write_run_report / `vidgan report` on a real tiny training run and on hand-made run directories.

The page is parsed with ``html.parser``: every file it references must exist (relative to the run folder),
each sample grid is a ``<video controls loop muted>`` of the MP4 with the GIF as poster, every log key is
a polyline with one point per logged record, and the config is shown verbatim.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch

import vidgan
from vidgan.report import write_run_report
from vidgan.report._html import MAX_PLOT_POINTS
from vidgan.report.run_report import MAX_VIDEOS

URL_ATTRS = ("src", "href", "poster", "data-fallback")


class Page(HTMLParser):
    """Tags with attributes, the text of every element with an id, and the table rows."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text_by_id: dict[str, str] = {}
        self.rows: list[list[str]] = []
        self._open: list[tuple[str, str | None]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag in ("br", "img", "source", "link", "meta", "input", "circle", "line", "polyline"):
            return
        self._open.append((tag, a.get("id")))
        if a.get("id"):
            self.text_by_id.setdefault(a["id"], "")
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        while self._open:
            t, _ = self._open.pop()
            if t == tag:
                break
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        for _, ident in self._open:
            if ident:
                self.text_by_id[ident] += data
        if self._cell is not None:
            self._cell.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def urls(self) -> list[str]:
        return [a[k] for _, a in self.tags for k in URL_ATTRS if a.get(k)]


def local_targets(page: Page, base: Path) -> list[Path]:
    """Files the page loads or links to (in-page anchors and absolute URLs excluded: there must be none)."""
    out = []
    for url in page.urls():
        if url.startswith("#"):
            continue
        assert "://" not in url and not url.startswith("//"), f"external reference {url}"
        out.append(base / urllib.parse.unquote(url))
    return out


def polyline_points(attrs: dict) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in attrs["points"].split()]


def train_tiny(run: Path, *extra: str) -> None:
    from vidgan.cli.main import main

    argv = ["train", "tganv2:tiny", "train.sample_every_clips=16", "train.checkpoint_every_clips=32"]
    argv += ["train.log_every_clips=16", *extra, "--run-dir", str(run), "--max-clips", "64", "--no-progress"]
    assert main(argv) == 0


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("report") / "run"
    train_tiny(run)
    return run


@pytest.fixture(scope="module")
def built(run_dir) -> tuple[Path, Page]:
    path = write_run_report(run_dir)
    return path, Page(path.read_text())


def test_every_referenced_file_exists_and_no_network(run_dir, built):
    path, page = built
    assert path == run_dir / "report.html"
    targets = local_targets(page, run_dir)
    assert targets, "the page references nothing"
    missing = [str(t) for t in targets if not t.is_file()]
    assert missing == []
    # stylesheet and script come from the asset folder, nothing else is loaded from elsewhere
    assert [a["href"] for a in page.find("link")] == ["report_files/report.css"]
    assert [a["src"] for a in page.find("script")] == ["report_files/report.js"]
    assert (run_dir / "report_files" / "report.css").is_file() and (run_dir / "report_files" / "report.js").is_file()
    assert not [p for p in run_dir.rglob(".*") if p.is_file()], "temporary files left behind"


def test_every_sample_grid_is_a_video_with_gif_poster(run_dir, built):
    _, page = built
    mp4s = sorted(p.name for p in (run_dir / "samples").glob("samples-*.mp4"))
    assert len(mp4s) == 5  # 0, 16, 32, 48, 64 clips
    videos = page.find("video")
    assert len(videos) == 5
    for v in videos:
        assert all(k in v for k in ("controls", "loop", "muted")), v
        assert v["poster"].endswith(".gif") and v["data-fallback"] == v["poster"]
    sources = [a["src"] for a in page.find("source")]
    assert all(a["type"] == "video/mp4" for a in page.find("source"))
    # latest first, then the earlier ones newest to oldest
    assert [s.rsplit("/", 1)[-1] for s in sources] == sorted(mp4s, reverse=True)
    assert [v["poster"].rsplit("/", 1)[-1] for v in videos] == [s.rsplit("/", 1)[-1][:-4] + ".gif" for s in sources]
    assert "latest" in videos[0]["aria-label"] and "autoplay" in videos[0]


def test_plots_have_one_point_per_logged_record(run_dir, built):
    _, page = built
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [r["clips_seen"] for r in records] == [16, 32, 48, 64]
    keys = sorted({k for r in records for k in r} - {"clips_seen", "step", "time"})
    lines = {a["data-key"]: a for a in page.find("polyline")}
    assert sorted(lines) == keys
    for k in keys:
        n = sum(k in r for r in records)
        pts = polyline_points(lines[k])
        assert len(pts) == n == int(lines[k]["data-n"]), k
        assert [x for x, _ in pts] == sorted(x for x, _ in pts)  # drawn left to right, like clips_seen
    # one plot per prefix group
    plot_ids = sorted(a["id"] for a in page.find("svg"))
    assert plot_ids == ["plot-D", "plot-G", "plot-other", "plot-speed"]
    assert "G/loss" in keys and "D/loss" in keys and "speed/clips_per_s" in keys


def test_plot_geometry_matches_values(run_dir, built):
    """The highest D/loss value sits highest (smallest SVG y): the y axis is not flipped or shuffled."""
    _, page = built
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    vals = [r["D/loss"] for r in records]
    ys = [y for _, y in polyline_points(next(a for a in page.find("polyline") if a["data-key"] == "D/loss"))]
    assert ys.index(min(ys)) == vals.index(max(vals)) and ys.index(max(ys)) == vals.index(min(vals))


def test_config_checkpoints_environment_throughput(run_dir, built):
    _, page = built
    assert page.text_by_id["config"] == (run_dir / "config.yaml").read_text()
    ckpt_rows = [r for r in page.rows if r and r[0].startswith("ckpt-")]
    assert [(r[0], r[1], r[2]) for r in ckpt_rows] == [
        ("ckpt-000000000032.pt", "32", "16"),
        ("ckpt-000000000064.pt", "64", "32"),
    ]
    env = {r[0]: (r[1], r[2]) for r in page.rows if len(r) == 3 and r[2]}
    assert env["vidgan"] == (vidgan.__version__, "checkpoint ckpt-000000000064.pt")
    assert env["torch"] == (torch.__version__, "this process (not recorded by the run)")
    assert "intra-op threads" in env and "device" in env
    speed = {r[0]: r[1] for r in page.rows if r and r[0].startswith("clips/s")}
    last = json.loads((run_dir / "log.jsonl").read_text().splitlines()[-1])["speed/clips_per_s"]
    assert speed["clips/s (latest)"] == f"{last:.4g}"
    header = built[0].read_text().split("</header>")[0]
    assert "tganv2:tiny · 64 clips seen · step 32" in header


def test_empty_run_dir(tmp_path):
    run = tmp_path / "fresh"
    run.mkdir()
    page = Page(write_run_report(run).read_text())
    for ident in ("no-samples", "no-log", "no-checkpoints", "no-config"):
        assert ident in page.text_by_id, ident
    assert "no samples yet" in page.text_by_id["no-samples"]
    assert page.find("video") == [] and page.find("svg") == []
    assert all(t.is_file() for t in local_targets(page, run))


def test_missing_run_dir_is_one_clear_error(tmp_path, capsys, monkeypatch):
    from vidgan.cli import main as cli_main

    with pytest.raises(FileNotFoundError, match="no such run directory"):
        write_run_report(tmp_path / "nope")
    monkeypatch.setitem(cli_main.COMMANDS, "report", "report")
    assert cli_main.main(["report", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {tmp_path / 'nope'}: no such run directory — ")
    assert not (tmp_path / "nope").exists()


def test_cli_rebuilds_the_report(run_dir, tmp_path, capsys, monkeypatch):
    from vidgan.cli import main as cli_main

    monkeypatch.setitem(cli_main.COMMANDS, "report", "report")
    (run_dir / "report.html").unlink()
    assert cli_main.main(["report", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert f"report: {run_dir / 'report.html'}" in out and "file://" in out
    assert (run_dir / "report.html").is_file()


def _fake_checkpoint(path: Path, clips: int, step: int, env: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"vidgan_version": "9.9.9", "progress": {"step": step, "clips_seen": clips}, "config": {"seed": 0}}
    if env is not None:
        state["env"] = env
    torch.save(state, path)


def test_metrics_resume_torn_line_and_nan(tmp_path):
    """eval/<metric> keys get their own plot and show up beside the checkpoint logged at the same clips;
    a resume that re-logs earlier clips replaces the abandoned records; a torn last line and NaN are noted."""
    run = tmp_path / "run"
    run.mkdir()
    recs = [
        {"clips_seen": 0, "step": 0, "time": 1.0, "eval/fvd_16_8f": 900.0},
        {"clips_seen": 100, "step": 50, "time": 2.0, "G/loss": 1.0, "speed/clips_per_s": 10.0},
        {"clips_seen": 200, "step": 100, "time": 3.0, "G/loss": 0.9, "eval/fvd_16_8f": 500.0},
        {"clips_seen": 300, "step": 150, "time": 4.0, "G/loss": 0.8},  # abandoned: resumed from 200
        {"clips_seen": 300, "step": 150, "time": 9.0, "G/loss": 0.7, "D/loss": float("nan")},
        {"clips_seen": 400, "step": 200, "time": 10.0, "G/loss": 0.6, "eval/fvd_16_8f": 300.0},
    ]
    text = "\n".join(json.dumps(r) for r in recs) + '\n{"clips_seen": 500, "st'
    (run / "log.jsonl").write_text(text)
    _fake_checkpoint(run / "checkpoints" / "ckpt-000000000200.pt", 200, 100, env={"torch": "2.0.0", "threads": 4})
    (run / "checkpoints" / "ckpt-000000000400.pt").write_bytes(b"partial")  # being written / damaged
    page = Page(write_run_report(run).read_text())
    lines = {a["data-key"]: a for a in page.find("polyline")}
    assert [x for x, _ in polyline_points(lines["G/loss"])] == sorted(x for x, _ in polyline_points(lines["G/loss"]))
    assert lines["G/loss"]["data-n"] == "4"  # 100, 200, 300 (the resumed one), 400
    assert lines["eval/fvd_16_8f"]["data-n"] == "3"
    assert "D/loss" not in lines  # its only value was NaN
    assert page.find("svg", id="plot-metric-fvd_16_8f")
    notes = page.text_by_id["notes"]
    assert "1 line(s) skipped" in notes and "line 7" in notes
    assert "1 record(s) dropped" in notes and "1 NaN/inf" in notes
    assert "ckpt-000000000400.pt: could not be read" in notes
    rows = {r[0]: r for r in page.rows if r and r[0].startswith("ckpt-")}
    assert rows["ckpt-000000000200.pt"][2] == "100" and "fvd_16_8f = 500" in rows["ckpt-000000000200.pt"][4]
    assert rows["ckpt-000000000400.pt"][6] != "ok"
    env = {r[0]: (r[1], r[2]) for r in page.rows if len(r) == 3 and r[2]}
    assert env["vidgan"] == ("9.9.9", "checkpoint ckpt-000000000200.pt")
    assert env["torch"] == ("2.0.0", "checkpoint ckpt-000000000200.pt")
    assert env["threads"] == ("4", "checkpoint ckpt-000000000200.pt")


def test_long_logs_are_thinned_and_many_samples_capped(tmp_path):
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    n = 5000
    (run / "log.jsonl").write_text(
        "".join(
            json.dumps({"clips_seen": 8 * (i + 1), "step": i, "time": i, "G/loss": math.sin(i)}) + "\n"
            for i in range(n)
        )
    )
    for i in range(20):
        for ext in ("mp4", "gif"):
            (run / "samples" / f"samples-{16 * i:012d}.{ext}").write_bytes(b"x")
    page = Page(write_run_report(run).read_text())
    line = page.find("polyline")[0]
    assert line["data-n"] == str(n) and len(polyline_points(line)) == MAX_PLOT_POINTS
    assert len(page.find("video")) == MAX_VIDEOS
    more = [a for a in page.find("a") if re.search(r"samples-\d+\.mp4$", a.get("href") or "")]
    assert {a["href"] for a in more} >= {f"samples/samples-{16 * i:012d}.mp4" for i in range(20)}
    assert all(t.is_file() for t in local_targets(page, run))


def test_failed_write_keeps_the_previous_report(tmp_path, monkeypatch):
    """A write that fails half-way (disk full at fsync) leaves the previous page and no temporary file."""
    import vidgan.report._html as h

    run = tmp_path / "run"
    run.mkdir()
    first = write_run_report(run).read_text()
    (run / "log.jsonl").write_text(json.dumps({"clips_seen": 8, "step": 1, "time": 0, "G/loss": 1.0}) + "\n")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(h.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        write_run_report(run)
    assert (run / "report.html").read_text() == first
    assert sorted(p.name for p in run.iterdir()) == ["log.jsonl", "report.html", "report_files"]
    assert sorted(p.name for p in (run / "report_files").iterdir()) == ["report.css", "report.js"]
