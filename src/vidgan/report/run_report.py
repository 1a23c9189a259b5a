"""The run report: ``RUN_DIR/report.html`` (+ ``RUN_DIR/report_files/``), one page about a training run.

Built from what a run directory already holds (``vidgan train --run-dir RUN``)::

    config.yaml                      resolved config          -> "Config"
    log.jsonl                        one JSON record per log  -> curves (one plot per key prefix), throughput
    samples/samples-<clips>.mp4/.gif sample grids             -> playable videos (GIF = poster and fallback)
    checkpoints/ckpt-<clips>.pt      checkpoints              -> table with clips/step and metrics logged then

The page opens from disk (``file://``) without a server or network: plots are inline SVG written here,
videos are referenced by relative path (``samples/...mp4``), the stylesheet and script sit in
``report_files/``. Anything missing (a fresh run without samples or log yet) is shown as such, never an error.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidgan.report._html import (
    esc,
    fmt_num,
    notes_box,
    page,
    rel_url,
    svg_plot,
    table,
    write_assets,
    write_text_atomic,
)

__all__ = ["write_run_report", "read_log", "REPORT_NAME"]

REPORT_NAME = "report.html"
MAX_VIDEOS = 12  # sample grids shown as players (latest + evenly spaced earlier ones); the rest are links
_SAMPLE_RE = re.compile(r"^samples-(\d+)\.(mp4|gif)$")
_CKPT_RE = re.compile(r"^ckpt-(\d+)\.pt$")
_RESERVED = ("clips_seen", "step", "time")


@dataclass
class LogData:
    """Parsed ``log.jsonl``: the records of the run's current timeline and what was dropped on the way."""

    records: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)  # 1-based line numbers that are not a JSON record
    superseded: int = 0  # records of an abandoned timeline (the run resumed from an earlier checkpoint)
    non_finite: int = 0  # NaN/inf values (not plotted)


def read_log(path: Path) -> LogData:
    """Read ``log.jsonl``; tolerant of a torn last line (a run still writing) and of resumed runs.

    A record whose ``clips_seen`` is not larger than the previous one starts a new timeline (the run was
    resumed from an earlier checkpoint): the earlier records at or after that clips count are dropped.
    """
    data = LogData()
    if not path.is_file():
        return data
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
                clips = int(rec["clips_seen"])
            except (ValueError, KeyError, TypeError):
                data.bad_lines.append(lineno)
                continue
            if not isinstance(rec, dict):
                data.bad_lines.append(lineno)
                continue
            rec["clips_seen"] = clips
            while data.records and data.records[-1]["clips_seen"] >= clips:
                data.records.pop()
                data.superseded += 1
            data.records.append(rec)
    return data


def _scalar(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _series(log: LogData) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for rec in log.records:
        for k, v in rec.items():
            if k in _RESERVED:
                continue
            f = _scalar(v)
            if f is None:
                continue
            if not math.isfinite(f):
                log.non_finite += 1
                continue
            out.setdefault(k, []).append((float(rec["clips_seen"]), f))
    return out


def is_metric(key: str) -> bool:
    """``eval/<metric>`` (what ``vidgan train --eval`` logs) or a bare registered metric name."""
    if key.startswith("eval/"):
        return True
    if "/" in key:
        return False
    from vidgan.metrics import resolve

    try:
        resolve(key)
    except KeyError:
        return False
    return True


def _metric_name(key: str) -> str:
    return key[5:] if key.startswith("eval/") else key


@dataclass
class _Sample:
    clips: int
    mp4: Path | None = None
    gif: Path | None = None


def _samples(run_dir: Path) -> list[_Sample]:
    found: dict[int, _Sample] = {}
    folder = run_dir / "samples"
    if folder.is_dir():
        for p in folder.iterdir():
            m = _SAMPLE_RE.match(p.name)
            if m and p.is_file() and p.stat().st_size > 0:
                s = found.setdefault(int(m.group(1)), _Sample(int(m.group(1))))
                setattr(s, m.group(2), p)
    return [found[k] for k in sorted(found)]


def _pick(n: int, k: int) -> list[int]:
    """``k`` evenly spaced indices of ``range(n)``, always including the first and the last."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def _gif_size(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        from PIL import Image

        with Image.open(path) as im:
            return im.size
    except Exception:  # unreadable GIF: the browser will say so; the page is still useful
        return None


# (path, mtime, size) -> what a checkpoint records: the trainer rebuilds the report at every tick, and
# loading a big checkpoint (even memory-mapped) each time would be wasted work.
_CKPT_CACHE: dict[tuple[str, int, int], dict[str, Any]] = {}


def _read_checkpoint(p: Path, clips: int) -> dict[str, Any]:
    import torch

    state = torch.load(p, map_location="cpu", weights_only=True, mmap=True)
    progress = state.get("progress") or {}
    env, config = state.get("env"), state.get("config")
    return {
        "step": progress.get("step"),
        "clips": int(progress.get("clips_seen", clips)),
        "vidgan_version": state.get("vidgan_version"),
        "env": env if isinstance(env, dict) else None,
        "config": config if isinstance(config, dict) else None,
    }


def _checkpoints(run_dir: Path, notes: list[str]) -> list[dict[str, Any]]:
    """Checkpoint files with what they record; loaded lazily (mmap, weights_only) so big ones stay cheap."""
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    rows = []
    for p in sorted(folder.iterdir()):
        m = _CKPT_RE.match(p.name)
        if not m or not p.is_file():
            continue
        st = p.stat()
        info: dict[str, Any] = {"path": p, "clips": int(m.group(1)), "size": st.st_size}
        key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
        try:
            if key not in _CKPT_CACHE:
                _CKPT_CACHE[key] = _read_checkpoint(p, info["clips"])
                while len(_CKPT_CACHE) > 64:
                    _CKPT_CACHE.pop(next(iter(_CKPT_CACHE)))
            info.update(_CKPT_CACHE[key])
        except Exception as e:  # a checkpoint being written by another process, or damaged
            info["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            notes.append(f"{p.name}: could not be read ({info['error']})")
        rows.append(info)
    rows.sort(key=lambda r: r["clips"])
    return rows


def _process_env() -> dict[str, str]:
    import torch

    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch build": f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU",
        "intra-op threads": str(torch.get_num_threads()),
        "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
    }
    try:
        if torch.cuda.is_available():
            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            env["device"] = "cuda: " + ", ".join(names)
        else:
            env["device"] = "cpu (no CUDA device visible)"
    except Exception as e:  # a broken driver must not stop the report
        env["device"] = f"unknown ({type(e).__name__})"
    return env


def _environment(ckpts: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(name, value, source) rows: what the newest readable checkpoint recorded, the rest from this process."""
    import vidgan

    rows: list[tuple[str, str, str]] = []
    latest = next((c for c in reversed(ckpts) if "error" not in c), None)
    recorded: dict[str, str] = {}
    if latest is not None:
        src = f"checkpoint {latest['path'].name}"
        if latest.get("vidgan_version"):
            recorded["vidgan"] = str(latest["vidgan_version"])
        for k, v in (latest.get("env") or {}).items():
            recorded[str(k)] = v if isinstance(v, str) else json.dumps(v, default=str)
        for k, v in recorded.items():
            rows.append((k, v, src))
    here = "this process (not recorded by the run)"
    if "vidgan" not in recorded:
        rows.append(("vidgan", vidgan.__version__, here))
    for k, v in _process_env().items():
        if k not in recorded:
            rows.append((k, v, here))
    return rows


def _group_of(key: str) -> str:
    if is_metric(key):
        return "metrics"
    return key.split("/", 1)[0] if "/" in key else "other"


_GROUP_TITLES = {"G": "Generator (G/*)", "D": "Discriminator (D/*)", "speed": "Throughput (speed/*)"}


def _curves_section(series: dict[str, list[tuple[float, float]]]) -> str:
    if not series:
        return '<p class="empty" id="no-log">no log records yet (log.jsonl is written every train.log_every_clips)</p>'
    groups: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for k, pts in series.items():
        groups.setdefault(_group_of(k), {})[k] = pts
    order = sorted(groups, key=lambda g: (g == "other", g == "metrics", g == "speed", g))
    out = ['<div class="plots">']
    for g in order:
        if g == "metrics":
            continue  # one plot per metric, below
        title = _GROUP_TITLES.get(g, f"{g}/*" if g != "other" else "other scalars")
        out.append(f'<div class="plot-box">{svg_plot(groups[g], title, "clips seen", plot_id=f"plot-{g}")}</div>')
    out.append("</div>")
    if "metrics" in groups:
        out.append('<h3 id="metric-curves">Metrics</h3><div class="plots">')
        for k, pts in groups["metrics"].items():
            name = _metric_name(k)
            out.append(
                f'<div class="plot-box">{svg_plot({k: pts}, name, "clips seen", name, plot_id=f"plot-metric-{name}")}'
                "</div>"
            )
        out.append("</div>")
    return "\n".join(out)


def _video(run_dir: Path, s: _Sample, scale_to: int, label: str, autoplay: bool) -> str:
    size = _gif_size(s.gif)
    width = ""
    if size and size[0] > 0:
        width = f' width="{size[0] * max(1, scale_to // size[0])}"'
    if s.mp4 is None:  # only the GIF exists
        src = rel_url(s.gif, run_dir)
        return f'<img class="media" src="{src}" alt="{esc(label)}"{width}>'
    mp4 = rel_url(s.mp4, run_dir)
    gif_attrs = ""
    if s.gif is not None:
        gif = rel_url(s.gif, run_dir)
        gif_attrs = f' poster="{gif}" data-fallback="{gif}"'
    auto = " autoplay" if autoplay else ""
    return (
        f'<video controls loop muted playsinline preload="auto"{auto}{width}{gif_attrs} aria-label="{esc(label)}">'
        f'<source src="{mp4}" type="video/mp4">'
        f'<a href="{mp4}">{esc(label)} (mp4)</a></video>'
    )


def _samples_section(run_dir: Path, samples: list[_Sample], steps: dict[int, int]) -> str:
    if not samples:
        return '<p class="empty" id="no-samples">no samples yet (grids are written every train.sample_every_clips)</p>'

    def caption(s: _Sample) -> str:
        step = steps.get(s.clips)
        files = " · ".join(
            f'<a href="{rel_url(p, run_dir)}">{esc(p.suffix[1:])}</a>' for p in (s.mp4, s.gif) if p is not None
        )
        at = f"{fmt_num(s.clips)} clips" + (f", step {step}" if step is not None else "")
        return f"<figcaption>{esc(at)} · {files}</figcaption>"

    latest = samples[-1]
    out = [
        '<figure class="latest">',
        _video(run_dir, latest, 512, f"latest samples at {latest.clips} clips", autoplay=True),
        caption(latest),
        "</figure>",
    ]
    earlier = samples[:-1]
    if earlier:
        shown = [earlier[i] for i in _pick(len(earlier), MAX_VIDEOS - 1)]
        out.append(f'<h3>Earlier samples ({len(earlier)})</h3><div class="earlier">')
        for s in reversed(shown):
            out += [
                "<figure>",
                _video(run_dir, s, 192, f"samples at {s.clips} clips", autoplay=True),
                caption(s),
                "</figure>",
            ]
        out.append("</div>")
        rest = [s for s in earlier if s not in shown]
        if rest:
            links = " ".join(f'<a href="{rel_url(s.mp4 or s.gif, run_dir)}">{esc(fmt_num(s.clips))}</a>' for s in rest)
            out.append(
                f"<details><summary>{len(rest)} more sample grids (not shown as players)</summary>{links}</details>"
            )
    return "\n".join(out)


def _checkpoints_section(
    run_dir: Path, ckpts: list[dict[str, Any]], by_clips: dict[int, dict[str, Any]], samples: list[_Sample]
) -> str:
    if not ckpts:
        return (
            '<p class="empty" id="no-checkpoints">no checkpoints yet (written every train.checkpoint_every_clips)</p>'
        )
    sample_at = {s.clips: s for s in samples}
    rows = []
    for c in ckpts:
        rec = by_clips.get(c["clips"], {})
        step = c.get("step", rec.get("step"))
        metrics = [
            f"{esc(_metric_name(k))} = {esc(f'{v:.6g}')}"
            for k, v in rec.items()
            if k not in _RESERVED and _scalar(v) is not None and is_metric(k)
        ]
        s = sample_at.get(c["clips"])
        sample = f'<a href="{rel_url(s.mp4 or s.gif, run_dir)}">grid</a>' if s else ""
        status = esc(c["error"]) if "error" in c else "ok"
        rows.append(
            [
                f'<a href="{rel_url(c["path"], run_dir)}">{esc(c["path"].name)}</a>',
                esc(fmt_num(c["clips"])),
                esc(step if step is not None else "?"),
                esc(f"{c['size'] / 2**20:.1f} MiB"),
                "<br>".join(metrics) or '<span class="empty">none logged</span>',
                sample,
                status,
            ]
        )
    return table(["file", "clips", "step", "size", "metrics at these clips", "samples", "status"], rows, (1, 2, 3))


def _throughput_section(log: LogData, series: dict[str, list[tuple[float, float]]]) -> str:
    speed = series.get("speed/clips_per_s", [])
    if not log.records:
        return '<p class="empty">no log records yet</p>'
    first, last = log.records[0], log.records[-1]
    rows = [["clips seen (latest record)", esc(fmt_num(last["clips_seen"]))], ["step", esc(last.get("step", "?"))]]
    if isinstance(first.get("time"), int | float) and isinstance(last.get("time"), int | float):
        span = float(last["time"]) - float(first["time"])
        rows.append(["time between first and last record", esc(_duration(span))])
    if speed:
        vals = [v for _, v in speed]
        rows.append(["clips/s (latest)", esc(f"{vals[-1]:.4g}")])
        rows.append(["clips/s (mean of records)", esc(f"{sum(vals) / len(vals):.4g}")])
        rows.append(["clips/s (min / max)", esc(f"{min(vals):.4g} / {max(vals):.4g}")])
    else:
        rows.append(["clips/s", '<span class="empty">speed/clips_per_s not logged</span>'])
    note = (
        '<p class="empty">speed/clips_per_s is averaged since the training process started '
        "(it restarts after a resume).</p>"
    )
    return table(["", "value"], rows, (1,), cls="throughput") + note


def _duration(s: float) -> str:
    s = max(0.0, s)
    h, rem = divmod(int(round(s)), 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h {m:02d}m {sec:02d}s" if h else (f"{m}m {sec:02d}s" if m else f"{s:.1f} s")


def _config_section(run_dir: Path, notes: list[str]) -> tuple[str, dict[str, Any]]:
    p = run_dir / "config.yaml"
    if not p.is_file():
        return '<p class="empty" id="no-config">no config.yaml yet</p>', {}
    text = p.read_text(encoding="utf-8", errors="replace")
    cfg: dict[str, Any] = {}
    try:
        import yaml

        loaded = yaml.safe_load(text)
        cfg = loaded if isinstance(loaded, dict) else {}
    except Exception as e:
        notes.append(f"config.yaml: not valid YAML ({type(e).__name__}); shown as text")
    return f'<pre id="config">{esc(text)}</pre>', cfg


def write_run_report(run_dir: str | os.PathLike) -> Path:
    """Write ``RUN_DIR/report.html`` (and ``RUN_DIR/report_files/``) atomically; returns the page's path.

    Safe to call at any time, also while the run is training (a torn log line or a checkpoint being
    written is skipped and noted on the page).
    """
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise FileNotFoundError(
            f"{run_dir}: no such run directory — pass the folder given to `vidgan train --run-dir`"
        )
    if not run_dir.is_dir():
        raise NotADirectoryError(f"{run_dir}: not a directory — pass the run folder (the one holding config.yaml)")
    notes: list[str] = []
    log = read_log(run_dir / "log.jsonl")
    series = _series(log)
    if log.bad_lines:
        shown = ", ".join(map(str, log.bad_lines[:5])) + (" ..." if len(log.bad_lines) > 5 else "")
        notes.append(f"log.jsonl: {len(log.bad_lines)} line(s) skipped, not a JSON record (line {shown})")
    if log.superseded:
        notes.append(
            f"log.jsonl: {log.superseded} record(s) dropped: superseded when the run resumed from an earlier "
            "checkpoint"
        )
    if log.non_finite:
        notes.append(f"log.jsonl: {log.non_finite} NaN/inf value(s) not plotted")
    config_html, cfg = _config_section(run_dir, notes)
    samples = _samples(run_dir)
    ckpts = _checkpoints(run_dir, notes)
    by_clips = {rec["clips_seen"]: rec for rec in log.records}
    steps = {c: r["step"] for c, r in by_clips.items() if isinstance(r.get("step"), int)}
    steps.update({c["clips"]: c["step"] for c in ckpts if isinstance(c.get("step"), int)})
    if not cfg:
        cfg = next((c["config"] for c in reversed(ckpts) if c.get("config")), {})

    family = (cfg.get("family") or {}).get("name") if isinstance(cfg.get("family"), dict) else None
    preset = cfg.get("preset")
    name = run_dir.resolve().name
    latest_clips = max(
        [0] + [r["clips_seen"] for r in log.records] + [s.clips for s in samples] + [c["clips"] for c in ckpts]
    )
    latest_step = steps.get(latest_clips)
    bits = [f"{family}:{preset or 'custom'}" if family else "config unknown", f"{fmt_num(latest_clips)} clips seen"]
    if latest_step is not None:
        bits.append(f"step {latest_step}")
    bits.append(f"{len(samples)} sample grids, {len(ckpts)} checkpoints")
    header = (
        f'<h1>Run {esc(name)}</h1>\n<p class="sub">{esc(" · ".join(bits))}</p>\n'
        '<nav><a href="#samples">Samples</a><a href="#curves">Curves</a><a href="#throughput">Throughput</a>'
        '<a href="#checkpoints">Checkpoints</a><a href="#config-section">Config</a>'
        '<a href="#environment">Environment</a></nav>'
    )
    env_rows = [[esc(k), esc(v), esc(src)] for k, v, src in _environment(ckpts)]
    body = "\n".join(
        [
            notes_box(notes),
            f'<section id="samples"><h2>Samples</h2>\n{_samples_section(run_dir, samples, steps)}\n</section>',
            f'<section id="curves"><h2>Curves</h2>\n{_curves_section(series)}\n</section>',
            f'<section id="throughput"><h2>Throughput</h2>\n{_throughput_section(log, series)}\n</section>',
            '<section id="checkpoints"><h2>Checkpoints</h2>\n'
            f"{_checkpoints_section(run_dir, ckpts, by_clips, samples)}\n</section>",
            '<section id="config-section"><h2>Config</h2>\n'
            f"<p>{esc(run_dir / 'config.yaml')}</p>\n{config_html}\n</section>",
            f'<section id="environment"><h2>Environment</h2>\n{table(["", "value", "source"], env_rows)}\n</section>',
        ]
    )
    import vidgan

    footer = (
        f"written by vidgan {esc(vidgan.__version__)} at {esc(time.strftime('%Y-%m-%d %H:%M:%S'))} from "
        f"<code>{esc(run_dir.resolve())}</code>; rebuild with <code>vidgan report {esc(run_dir)}</code>"
    )
    write_assets(run_dir)
    out = run_dir / REPORT_NAME
    write_text_atomic(out, page(f"vidgan run {name}", header, body, footer))
    return out
