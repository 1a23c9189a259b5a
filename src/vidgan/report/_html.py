"""Shared pieces of the HTML reports: escaping, the page shell, the asset folder and hand-written SVG plots.

Everything here is dependency-free (no matplotlib, no CDN): a report is one ``report.html`` plus a sibling
``report_files/`` folder (stylesheet, script, images), opened straight from disk with ``file://``.
"""

from __future__ import annotations

import html
import math
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path

from vidgan.core.atomic import atomic_path

ASSET_DIR = "report_files"
MAX_PLOT_POINTS = 2000  # per series; longer series are thinned (first, last and evenly spaced points kept)
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")

CSS = """\
:root { --fg: #1d2127; --muted: #5d6673; --line: #d7dce2; --bg: #ffffff; --panel: #f5f7f9; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); }
header { padding: 18px 28px 10px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .sub { margin: 0; color: var(--muted); }
nav { margin-top: 8px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 6px 28px 28px; max-width: 1400px; }
section { margin-top: 22px; }
h2 { font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.empty { color: var(--muted); font-style: italic; }
.notes { border-left: 4px solid #d9a400; background: #fff8e1; padding: 8px 12px; margin-top: 14px; }
.notes li { margin: 2px 0; }
figure { margin: 0 18px 18px 0; display: inline-block; vertical-align: top; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; }
video, img.media { image-rendering: pixelated; background: #000; max-width: 100%; display: block; }
.plots { display: flex; flex-wrap: wrap; gap: 10px 22px; }
.plot-box { flex: 1 1 520px; max-width: 660px; }
svg.plot { width: 100%; max-width: 660px; height: auto; background: #fff; }
svg.plot text { font: 11px system-ui, sans-serif; fill: #333; }
svg.plot .title { font-size: 13px; font-weight: 600; }
svg.plot .grid { stroke: #eceff2; }
svg.plot .axis { stroke: #888; }
svg.plot polyline { fill: none; stroke-width: 1.6; }
.legend { font-size: 13px; margin: 2px 0 0 8px; }
.legend span { margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 5px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--panel); }
table.metrics td:nth-child(3) { font-size: 13px; max-width: 720px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: var(--panel); padding: 10px 12px; overflow: auto; max-height: 520px; font-size: 13px; }
details { margin: 6px 0; }
code { font-size: 13px; }
footer { color: var(--muted); font-size: 13px; padding: 14px 28px; border-top: 1px solid var(--line); }
.media-error { color: #b00020; font-size: 13px; }
"""

# A <video> whose MP4 cannot be played (no H.264 in this browser, file pruned) is replaced by its GIF.
JS = """\
(function () {
  "use strict";
  function fallback(video) {
    var gif = video.getAttribute("data-fallback");
    if (!gif || video.getAttribute("data-fell-back")) { return; }
    video.setAttribute("data-fell-back", "1");
    var img = document.createElement("img");
    img.className = "media";
    img.src = gif;
    img.alt = video.getAttribute("aria-label") || "sample grid";
    if (video.width) { img.width = video.width; }
    video.parentNode.replaceChild(img, video);
  }
  function watch(video) {
    video.addEventListener("error", function () { fallback(video); });
    var sources = video.querySelectorAll("source");
    if (sources.length) {
      sources[sources.length - 1].addEventListener("error", function () { fallback(video); });
    }
    if (video.error || video.networkState === 3) { fallback(video); }
  }
  function init() {
    var videos = document.querySelectorAll("video[data-fallback]");
    for (var i = 0; i < videos.length; i++) { watch(videos[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def rel_url(path: str | os.PathLike, start: str | os.PathLike) -> str:
    """Relative URL of ``path`` from folder ``start`` (percent-encoded, forward slashes)."""
    rel = os.path.relpath(os.fspath(path), os.fspath(start))
    return urllib.parse.quote(Path(rel).as_posix())


def fmt_num(v: float) -> str:
    """Compact, readable number: 0.6981, 1.353, 12.5k, 3.2M, 1.2e-05."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return str(v)
    a = abs(v)
    if a >= 1e5:
        for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if a >= div:
                return f"{v / div:.4g}{suf}"
    if float(v).is_integer() and a < 1e5:
        return str(int(v))
    return f"{v:.4g}"


def readable(tmp: str | os.PathLike) -> None:
    """rw-r--r--: a report is meant to be read by others (temporary files are created owner-only)."""
    os.chmod(tmp, 0o644)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        readable(tmp)


def write_assets(out_dir: Path) -> Path:
    """(Re)write ``report_files/report.css`` and ``report.js``; only when the content changed."""
    assets = out_dir / ASSET_DIR
    assets.mkdir(parents=True, exist_ok=True)
    for name, text in (("report.css", CSS), ("report.js", JS)):
        p = assets / name
        if not p.is_file() or p.read_text() != text:
            write_text_atomic(p, text)
    return assets


def page(title: str, header: str, body: str, footer: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{ASSET_DIR}/report.css">\n'
        f'<script src="{ASSET_DIR}/report.js"></script>\n'
        "</head>\n<body>\n"
        f"<header>\n{header}\n</header>\n<main>\n{body}\n</main>\n<footer>{footer}</footer>\n</body>\n</html>\n"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], num_cols: Sequence[int] = (), cls: str = "") -> str:
    """HTML table; ``rows`` hold already-escaped HTML cells."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = "".join(f'<td class="num">{c}</td>' if i in num_cols else f"<td>{c}</td>" for i, c in enumerate(r))
        body.append(f"<tr>{cells}</tr>")
    cls_attr = f' class="{esc(cls)}"' if cls else ""
    return f"<table{cls_attr}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def notes_box(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return f'<div class="notes" id="notes"><strong>Notes</strong><ul>{items}</ul></div>'


# ---------------------------------------------------------------------------------------------- SVG plots


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """About ``target`` round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(t) < step * 1e-9 else t)
        t = first + step * len(ticks)
    return ticks


def _padded_range(values: Sequence[float], pad_frac: float) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi == lo:
        d = abs(lo) * 0.1 or 1.0
        return lo - d, hi + d
    d = (hi - lo) * pad_frac
    return lo - d, hi + d


def thin(points: Sequence[tuple[float, float]], limit: int = MAX_PLOT_POINTS) -> list[tuple[float, float]]:
    """At most ``limit`` points: first, last and evenly spaced ones in between."""
    n = len(points)
    if n <= limit:
        return list(points)
    idx = sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})
    return [points[i] for i in idx]


def svg_plot(
    series: Mapping[str, Sequence[tuple[float, float]]],
    title: str,
    xlabel: str,
    ylabel: str = "",
    plot_id: str = "",
    width: int = 640,
    height: int = 300,
) -> str:
    """A line plot as inline SVG with axes, grid, tick labels and a legend below (HTML).

    Each series is a ``<polyline class="series" data-key=... data-n=...>`` (``data-n``: the points logged,
    ``points``: the points drawn, thinned to :data:`MAX_PLOT_POINTS`); series of up to 60 points also get
    a dot per point (so one logged value is still visible) with a tooltip.
    """
    ml, mr, mt, mb = 66, 16, 26, 42
    pw, ph = width - ml - mr, height - mt - mb
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    out = [
        f'<svg class="plot" id="{esc(plot_id)}" data-title="{esc(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
        f'<text class="title" x="{ml}" y="16">{esc(title)}</text>',
    ]
    if not xs:
        out.append(f'<text x="{ml + pw / 2}" y="{mt + ph / 2}" text-anchor="middle">no values</text></svg>')
        return "\n".join(out)
    x0, x1 = (min(xs), max(xs)) if max(xs) > min(xs) else _padded_range(xs, 0)
    y0, y1 = _padded_range(ys, 0.05)

    def sx(x: float) -> float:
        return ml + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return mt + ph - (y - y0) / (y1 - y0) * ph

    for t in nice_ticks(y0, y1):
        if y0 <= t <= y1:
            yy = sy(t)
            out.append(f'<line class="grid" x1="{ml}" x2="{ml + pw}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
            out.append(f'<text x="{ml - 6}" y="{yy + 4:.1f}" text-anchor="end">{esc(fmt_num(t))}</text>')
    for t in nice_ticks(x0, x1, 6):
        if x0 <= t <= x1:
            xx = sx(t)
            out.append(f'<line class="grid" x1="{xx:.1f}" x2="{xx:.1f}" y1="{mt}" y2="{mt + ph}"/>')
            out.append(f'<text x="{xx:.1f}" y="{mt + ph + 16}" text-anchor="middle">{esc(fmt_num(t))}</text>')
    out.append(f'<line class="axis" x1="{ml}" x2="{ml}" y1="{mt}" y2="{mt + ph}"/>')
    out.append(f'<line class="axis" x1="{ml}" x2="{ml + pw}" y1="{mt + ph}" y2="{mt + ph}"/>')
    out.append(f'<text x="{ml + pw / 2}" y="{height - 6}" text-anchor="middle">{esc(xlabel)}</text>')
    if ylabel:
        out.append(
            f'<text x="14" y="{mt + ph / 2}" text-anchor="middle" '
            f'transform="rotate(-90 14 {mt + ph / 2})">{esc(ylabel)}</text>'
        )
    legend = []
    for i, (key, pts) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        shown = thin(pts)
        coords = " ".join(f"{sx(x):.2f},{sy(y):.2f}" for x, y in shown)
        out.append(
            f'<polyline class="series" data-key="{esc(key)}" data-n="{len(pts)}" stroke="{color}" points="{coords}"/>'
        )
        if len(pts) <= 60:
            for x, y in pts:
                out.append(
                    f'<circle cx="{sx(x):.2f}" cy="{sy(y):.2f}" r="2.6" fill="{color}">'
                    f"<title>{esc(key)} = {esc(f'{y:.6g}')} at {esc(xlabel)} {esc(fmt_num(x))}</title></circle>"
                )
        legend.append(f'<span><i style="background:{color}"></i>{esc(key)} ({len(pts)} points)</span>')
    out.append("</svg>")
    return "\n".join(out) + f'\n<div class="legend">{"".join(legend)}</div>'
