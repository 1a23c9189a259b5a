"""Scan a video dataset once and cache what each video holds.

The cache records, per relative path, ``num_frames``, ``fps``, ``height``, ``width`` (or the reason the
video is unreadable), keyed by the file's mtime and size so edited files are re-probed. It lives in
``<root>/.vidgan_index.json`` when the root folder is writable, else in
``$VIDGAN_HOME/index/<sha1 of the absolute root>.json`` (``VIDGAN_HOME`` defaults to ``~/.cache/vidgan``).

Each new or changed file is opened and checked with :meth:`vidgan.io.VideoReader.verify`, so what
training would hit later is reported now: frame folders and zips get every frame's header checked (size,
mode, bit depth, zip member sizes; PNG truncation in folders), containers get every packet demuxed (no
decoding) and counted against the metadata (truncated files) and their first frame decoded. Measured on
a 2-core box (open + verify, vs open alone): 100-frame mp4 64x64 3 ms (0.6 ms), 256x256 4 MB 22 ms (4 ms;
a full decode is ~750 ms); 100-frame PNG folder 2.4 ms, the same frames in a zip 4.8 ms (~25-50 us a frame).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from vidgan.core.atomic import atomic_write
from vidgan.io import VideoReader, VideoReadError, list_videos, split_zip_path

__all__ = ["VideoInfo", "scan_videos", "index_cache_path"]

CACHE_NAME = ".vidgan_index.json"
_VERSION = 2  # 2: entries are verified (VideoReader.verify), not only opened


@dataclass(frozen=True)
class VideoInfo:
    """One usable video: absolute ``path`` (``a.zip/dir`` for zip members), ``relpath`` under the root."""

    path: str
    relpath: str
    num_frames: int
    fps: float
    height: int
    width: int


def index_cache_path(root: str) -> str:
    """Where the index of ``root`` is cached (see module doc)."""
    root = os.path.abspath(root)
    if os.path.isdir(root) and os.access(root, os.W_OK):
        return os.path.join(root, CACHE_NAME)
    home = os.environ.get("VIDGAN_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "vidgan")
    return os.path.join(home, "index", hashlib.sha1(root.encode()).hexdigest() + ".json")


def _stamp(path: str) -> list[int]:
    """``[mtime_ns, size]`` of the file backing ``path`` (the zip for zip members; a folder: its entries)."""
    zp = split_zip_path(path)
    target = zp[0] if zp is not None and not os.path.exists(path) else path
    st = os.stat(target)
    size = len(os.listdir(target)) if os.path.isdir(target) else st.st_size
    return [st.st_mtime_ns, size]


def _relpath(path: str, root: str) -> str:
    if os.path.isfile(root) and not root.lower().endswith(".zip"):
        return os.path.basename(root)
    return os.path.relpath(path, root).replace(os.sep, "/") if path != root else "."


def _load_cache(path: str, root: str) -> dict:
    try:
        with open(path) as f:
            data = json.load(f)
        if data.get("version") == _VERSION and data.get("root") == root:
            return data["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return {}


def _save_cache(path: str, root: str, entries: dict) -> None:
    """Atomic write; an unwritable cache is not an error (the scan just repeats next time)."""
    try:
        with atomic_write(path, "w") as f:
            json.dump({"version": _VERSION, "root": root, "entries": entries}, f, sort_keys=True)
    except OSError:
        pass


def scan_videos(root: str, use_cache: bool = True) -> tuple[list[VideoInfo], list[tuple[str, str]]]:
    """Probe every video under ``root`` (see :func:`vidgan.io.list_videos`).

    Returns ``(usable videos, [(relpath, reason), ...] for unreadable ones)``, both in natural order.
    Only headers and packets are read (see the module doc), never a whole decode.
    """
    root = os.path.abspath(root)
    cache_file = index_cache_path(root)
    old = _load_cache(cache_file, root) if use_cache else {}
    entries: dict[str, dict] = {}
    good: list[VideoInfo] = []
    bad: list[tuple[str, str]] = []
    for path in list_videos(root):
        rel = _relpath(path, root)
        try:
            stamp = _stamp(path)
        except OSError as e:
            bad.append((rel, f"cannot stat: {e}"))
            continue
        e = old.get(rel)
        if e is None or e.get("stamp") != stamp:
            try:
                r = VideoReader(path)
                r.verify()
                e = {
                    "stamp": stamp,
                    "num_frames": r.num_frames,
                    "fps": r.fps,
                    "height": r.size[0],
                    "width": r.size[1],
                }
            except VideoReadError as err:
                e = {"stamp": stamp, "error": str(err)}
            except OSError as err:  # e.g. a folder that cannot be listed
                e = {"stamp": stamp, "error": f"{path}: cannot read ({err.strerror or err})"}
        entries[rel] = e
        if "error" in e:
            bad.append((rel, e["error"]))
        else:
            good.append(VideoInfo(path, rel, e["num_frames"], e["fps"], e["height"], e["width"]))
    if use_cache and entries != old:
        _save_cache(cache_file, root, entries)
    return good, bad
