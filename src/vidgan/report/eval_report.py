"""The eval report: ``OUT_DIR/report.html`` (+ ``OUT_DIR/report_files/``) for ``vidgan eval --report OUT_DIR``.

* a table of every metric with its protocol name and value, the key protocol fields, and the full protocol
  (as JSON, per-frame tables left out) in a collapsible block — a number is never shown without its protocol;
* per-frame plots (one per VSR metric: PSNR, SSIM, LPIPS, tOF, tLP over frame index, one line per sequence)
  from ``per_frame`` or, when not given, from the ``per_frame`` tables the VSR metrics keep in their protocol;
* side-by-side input / output / ground-truth strips (PNG written with Pillow into ``report_files/``).

``report_files/results.json`` holds ``{"results": [...]}`` exactly as ``vidgan eval --json`` prints it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidgan.metrics.result import MetricResult
from vidgan.report._html import (
    ASSET_DIR,
    esc,
    page,
    readable,
    rel_url,
    svg_plot,
    table,
    write_assets,
    write_text_atomic,
)

__all__ = ["write_eval_report", "REPORT_NAME", "STRIP_FRAMES"]

REPORT_NAME = "report.html"
STRIP_FRAMES = 4  # frames per strip (evenly spaced over the sequence)
MIN_PANEL_WIDTH = 128  # px; smaller frames are enlarged by an integer factor (up to 8x)
PANELS = (("input", "input"), ("output", "output"), ("ground_truth", "ground truth"))
_PANEL_ALIASES = {
    "lr": "input",
    "inputs": "input",
    "sr": "output",
    "fake": "output",
    "gt": "ground_truth",
    "hr": "ground_truth",
    "real": "ground_truth",
    "target": "ground_truth",
}
_TEMPORAL = ("tof_teco", "tlp_teco")  # values for the frame pairs (i-1, i): the first one belongs to frame cutfr+1
_LONG_FIELDS = ("per_frame",)


def _as_result(r: Any, i: int) -> MetricResult:
    if isinstance(r, MetricResult):
        return r
    if isinstance(r, Mapping) and "metric" in r and "value" in r:
        try:
            value = float(r["value"])
        except (TypeError, ValueError):
            raise ValueError(
                f"results[{i}].value: {r['value']!r} is not a number — pass MetricResult objects"
            ) from None
        return MetricResult(str(r["metric"]), value, dict(r.get("protocol") or {}))
    raise ValueError(
        f"results[{i}]: expected a MetricResult or a dict with 'metric' and 'value', got {type(r).__name__} "
        "— pass what vidgan.metrics returns (or its to_dict())"
    )


def _short_protocol(protocol: Mapping[str, Any]) -> str:
    parts = []
    for k, v in protocol.items():
        if k in _LONG_FIELDS:
            continue
        text = json.dumps(v, default=str) if isinstance(v, dict | list) else str(v)
        if len(text) > 60:
            continue  # in the full protocol below
        parts.append(f"{k}={text}")
    return ", ".join(parts)


def _per_frame_from_results(results: Sequence[MetricResult]) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for r in results:
        table_ = r.protocol.get("per_frame")
        if isinstance(table_, Mapping) and table_:
            out[r.metric] = {str(k): list(v) for k, v in table_.items()}
    return out


def _normalise_per_frame(per_frame: Mapping[str, Any]) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    if not isinstance(per_frame, Mapping):
        raise ValueError(
            f"per_frame: expected {{metric: {{sequence: [values]}}}}, got {type(per_frame).__name__} "
            "— pass a dict keyed by metric name"
        )
    for metric, seqs in per_frame.items():
        if not isinstance(seqs, Mapping):  # one unnamed sequence
            seqs = {"values": seqs}
        out[str(metric)] = {}
        for seq, vals in seqs.items():
            try:
                arr = [float(v) for v in np.asarray(vals, dtype=np.float64).reshape(-1)]
            except (TypeError, ValueError):
                raise ValueError(
                    f"per_frame[{metric!r}][{seq!r}]: not a list of numbers — pass one value per frame"
                ) from None
            out[str(metric)][str(seq)] = arr
    return out


def _first_frame_index(metric: str, protocol: Mapping[str, Any]) -> int:
    """Frame number of the first per-frame value (TecoGAN skips ``cutfr`` frames; temporal ones one more)."""
    cutfr = protocol.get("cutfr")
    if not isinstance(cutfr, int) or protocol.get("frames") == "all":
        return 0
    return cutfr + (1 if metric in _TEMPORAL else 0)


# ------------------------------------------------------------------------------------------------ strips


def _reader(path: str | os.PathLike, where: str):
    from vidgan.io import VideoReader, VideoReadError

    try:
        return VideoReader(path)
    except VideoReadError as e:
        raise VideoReadError(f"{where}: {e} — pass an existing video file, frame folder or uint8 array") from None


def _frames_of(value: Any, where: str, indices: Sequence[int] | None) -> np.ndarray:
    """uint8 (T, H, W, 3) frames from an array or a path (video file / frame folder / zip)."""
    if isinstance(value, str | os.PathLike):
        with _reader(value, where) as r:
            n = len(r)
            idx = [i for i in (indices if indices is not None else _spread(n)) if i < n]
            return r.read_frames(idx) if idx else r.read(0, 1)
    arr = np.asarray(value)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise ValueError(
            f"{where}: expected uint8 RGB frames (T, H, W, 3) or (H, W, 3), got {arr.dtype} {tuple(arr.shape)} "
            "— convert with (x * 255).round().clip(0, 255).astype(np.uint8) in (T, H, W, 3) layout"
        )
    if indices is None:
        return arr
    return arr[[i for i in indices if i < len(arr)] or [0]]


def _spread(n: int, k: int = STRIP_FRAMES) -> list[int]:
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def _label_bar(text: str, width: int, height: int) -> np.ndarray:
    from PIL import Image, ImageDraw

    bar = Image.new("RGB", (width, height), (32, 36, 42))
    ImageDraw.Draw(bar).text((4, max(0, (height - 11) // 2)), text, fill=(235, 235, 235))
    return np.asarray(bar)


def _strip_image(name: str, panels: Mapping[str, Any]) -> tuple[np.ndarray, list[int]]:
    """Columns input | output | ground truth (those given), rows = up to ``STRIP_FRAMES`` frames (their indices
    are returned). Panels are drawn at the size of the largest one, small frames enlarged to >= 128 px wide
    (nearest neighbour: pixels stay visible)."""
    from PIL import Image

    where = f"strips[{name!r}]"
    if not isinstance(panels, Mapping):
        raise ValueError(f"{where}: expected {{'input'|'output'|'ground_truth': frames}}, got {type(panels).__name__}")
    canon: dict[str, Any] = {}
    for k, v in panels.items():
        key = _PANEL_ALIASES.get(str(k), str(k))
        if key not in dict(PANELS):
            raise ValueError(
                f"{where}.{k}: unknown panel — use input, output and/or ground_truth (aliases lr, sr, gt)"
            )
        if v is not None:
            canon[key] = v
    if not canon:
        raise ValueError(f"{where}: no frames given — pass at least one of input, output, ground_truth")
    # frame indices from the longest panel given as an array or path (read lazily for paths)
    lengths = []
    for key, v in canon.items():
        if isinstance(v, str | os.PathLike):
            with _reader(v, f"{where}.{key}") as r:
                lengths.append(len(r))
        else:
            a = np.asarray(v)
            lengths.append(1 if a.ndim == 3 else len(a))
    idx = _spread(min(lengths) if lengths else 1)
    frames = {key: _frames_of(v, f"{where}.{key}", idx) for key, v in canon.items()}
    th = max(f.shape[1] for f in frames.values())
    tw = max(f.shape[2] for f in frames.values())
    zoom = min(8, max(1, -(-MIN_PANEL_WIDTH // tw)))
    th, tw = th * zoom, tw * zoom
    rows = min(len(f) for f in frames.values())
    pad = 4
    cols = [key for key, _ in PANELS if key in frames]
    label_h = 16
    canvas = np.full((label_h + rows * (th + pad), len(cols) * (tw + pad) - pad, 3), 255, np.uint8)
    for c, key in enumerate(cols):
        x = c * (tw + pad)
        canvas[:label_h, x : x + tw] = _label_bar(dict(PANELS)[key], tw, label_h)
        for r in range(rows):
            f = frames[key][r]
            if f.shape[:2] != (th, tw):
                f = np.asarray(Image.fromarray(f).resize((tw, th), Image.NEAREST))
            y = label_h + r * (th + pad)
            canvas[y : y + th, x : x + tw] = f
    return canvas, idx[:rows]


def _write_png(path: Path, img: np.ndarray) -> None:
    from PIL import Image

    from vidgan.core.atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(img).save(tmp, format="PNG")
        readable(tmp)


def _safe_name(s: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in s)
    return keep.strip("._")[:60] or "strip"


# ------------------------------------------------------------------------------------------------ report


def write_eval_report(
    out_dir: str | os.PathLike,
    results: Sequence[MetricResult | Mapping[str, Any]],
    per_frame: Mapping[str, Any] | None = None,
    strips: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write ``OUT_DIR/report.html`` (+ ``report_files/``) atomically; returns the page's path.

    Args:
        out_dir: folder for the report (created).
        results: ``MetricResult`` objects (or their ``to_dict()``), as ``vidgan.metrics`` returns them.
        per_frame: ``{metric: {sequence: [value per frame]}}`` (or ``{metric: [values]}``); default: the
            ``per_frame`` tables in the results' protocols (VSR metrics keep them).
        strips: ``{sequence: {"input": frames, "output": frames, "ground_truth": frames}}``, any subset of the
            three; frames = uint8 ``(T, H, W, 3)`` arrays or paths to a video / frame folder. Up to
            :data:`STRIP_FRAMES` evenly spaced frames are shown, smaller panels upscaled (nearest).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir}: exists and is not a folder — pass a folder for --report")
    res = [_as_result(r, i) for i, r in enumerate(results)]
    pf = _normalise_per_frame(per_frame) if per_frame is not None else _per_frame_from_results(res)
    protocols = {r.metric: r.protocol for r in res}
    strip_imgs = {name: _strip_image(str(name), panels) for name, panels in (strips or {}).items()}  # validate first

    out_dir.mkdir(parents=True, exist_ok=True)
    assets = write_assets(out_dir)
    # ---- strips
    strip_html = []
    written = set()
    for i, (name, (img, frame_idx)) in enumerate(strip_imgs.items()):
        fname = f"strip-{i:03d}-{_safe_name(str(name))}.png"
        _write_png(assets / fname, img)
        written.add(fname)
        strip_html.append(
            f'<figure class="strip"><img class="media" src="{ASSET_DIR}/{fname}" alt="{esc(name)}: input, output, '
            f'ground truth" width="{img.shape[1]}" height="{img.shape[0]}">'
            f"<figcaption>{esc(name)}: frames {esc(', '.join(map(str, frame_idx)))} (top to bottom)</figcaption>"
            "</figure>"
        )
    for stale in assets.glob("strip-*.png"):  # strips of an earlier report into the same folder
        if stale.name not in written:
            stale.unlink()
    # ---- metric table
    rows = []
    for r in res:
        full = {k: v for k, v in r.to_dict()["protocol"].items() if k not in _LONG_FIELDS}
        rows.append(
            [
                f"<code>{esc(r.metric)}</code>",
                esc(f"{r.value:.6g}"),
                esc(_short_protocol(r.protocol)),
                "<details><summary>protocol</summary>"
                f"<pre>{esc(json.dumps(full, indent=1, default=str))}</pre></details>",
            ]
        )
    metrics_html = (
        table(["metric (protocol name)", "value", "protocol", "full protocol"], rows, (1,), cls="metrics")
        if rows
        else '<p class="empty">no results</p>'
    )
    # ---- per-frame plots
    plots = []
    for metric, seqs in pf.items():
        start = _first_frame_index(metric, protocols.get(metric, {}))
        series = {seq: [(float(start + i), v) for i, v in enumerate(vals)] for seq, vals in seqs.items() if vals}
        svg = svg_plot(series, f"{metric} per frame", "frame", metric, plot_id=f"plot-{metric}")
        plots.append(f'<div class="plot-box">{svg}</div>')
    per_frame_html = (
        '<div class="plots">' + "\n".join(plots) + "</div>"
        if plots
        else '<p class="empty" id="no-per-frame">no per-frame values</p>'
    )
    doc = {"results": [r.to_dict() for r in res]}
    write_text_atomic(assets / "results.json", json.dumps(doc, indent=1))

    import vidgan

    names = ", ".join(r.metric for r in res) or "no metrics"
    header = (
        f'<h1>Evaluation</h1>\n<p class="sub">{esc(names)}</p>\n'
        '<nav><a href="#metrics">Metrics</a><a href="#per-frame">Per frame</a><a href="#strips">Strips</a>'
        f'<a href="{ASSET_DIR}/results.json">results.json</a></nav>'
    )
    body = "\n".join(
        [
            f'<section id="metrics"><h2>Metrics</h2>\n{metrics_html}\n</section>',
            f'<section id="per-frame"><h2>Per frame</h2>\n{per_frame_html}\n</section>',
            '<section id="strips"><h2>Input / output / ground truth</h2>\n'
            + ("\n".join(strip_html) or '<p class="empty" id="no-strips">no strips</p>')
            + "\n</section>",
        ]
    )
    footer = (
        f"written by vidgan {esc(vidgan.__version__)} at {esc(time.strftime('%Y-%m-%d %H:%M:%S'))}; "
        f'results as JSON: <a href="{rel_url(assets / "results.json", out_dir)}">{ASSET_DIR}/results.json</a>'
    )
    out = out_dir / REPORT_NAME
    write_text_atomic(out, page("vidgan eval report", header, body, footer))
    return out
