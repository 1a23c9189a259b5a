"""TGANv2's official HDF5 datasets, read in place (``data.source=path/to/train.h5``).

Layout written by the official ``scripts/make_ucf101.py`` / ``make_face_forensics.py`` (spec tganv2.md §5):

* ``<name>.h5`` (or ``.hdf5``): dataset ``image``, uint8 ``(total_frames, 3, H, W)`` RGB channel-first, every
  video's frames concatenated (UCF101 192x256, FaceForensics 256x256). A channel-last ``(total_frames, H, W,
  3)`` array is read as well.
* ``<name>.json`` beside it (same name, ``.json``): pandas ``to_json(orient="records")``, one record a video,
  ``[{"start": s, "end": e, "category": c}, ...]`` with ``end`` exclusive (``category``: UCF101 only). pandas'
  default column orientation ``{"start": {"0": s, ...}, "end": {...}}`` is accepted too.

Video ``k`` is frames ``[start_k, end_k)``; its path is ``<name>.h5/<k>`` (like zip members) and its relative
name, which the deterministic train/val split hashes, is ``k``. :class:`HDF5VideoReader` gives one video the
interface of :class:`vidgan.io.VideoReader`, so every sampler works unchanged. Reads are bounded: only the
frames asked for are read (one slice, or one sorted point selection), never the whole array. Everything is
validated when the file is first opened (dataset present, uint8, 4-D, 3 channels, frame size, JSON ranges inside
the array) and each problem is one :class:`~vidgan.io.VideoReadError` line naming the file.

h5py is optional (``pip install "vidgan[h5]"``). The files hold no frame rate; 25 fps (UCF101's) is reported.
Handles are opened lazily, once per process (re-opened after a fork), and never pickled, so datasets travel
into DataLoader workers.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from vidgan.data.index import VideoInfo
from vidgan.io import MAX_FRAME_PIXELS, VideoReader, VideoReadError, list_videos

__all__ = [
    "H5_EXTS",
    "HDF5Videos",
    "HDF5VideoReader",
    "is_hdf5",
    "split_h5_path",
    "open_hdf5",
    "hdf5_videos",
    "open_video",
    "list_video_paths",
]

H5_EXTS = (".h5", ".hdf5")
DATASET = "image"  # the official scripts' dataset name
FPS = 25.0  # not stored in the files; UCF101's rate
MISSING_H5PY = 'data.source: reading .h5 needs h5py — pip install "vidgan[h5]"'
_FIX = "regenerate it with TGANv2's make_ucf101.py / make_face_forensics.py"


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise RuntimeError(MISSING_H5PY) from None
    return h5py


def is_hdf5(path: str | os.PathLike) -> bool:
    """``path`` names an ``.h5`` / ``.hdf5`` file (not a video inside one)."""
    return os.fspath(path).lower().endswith(H5_EXTS)


def split_h5_path(path: str | os.PathLike) -> tuple[str, int] | None:
    """``"a/train.h5/12"`` -> ``("a/train.h5", 12)``; ``None`` when ``path`` is no video of an ``.h5``."""
    m = re.match(r"^(.*\.(?:h5|hdf5))[\\/](\d+)$", os.fspath(path), flags=re.IGNORECASE)
    return (m.group(1), int(m.group(2))) if m else None


def _records(doc: Any, where: str) -> list[dict]:
    """The JSON document -> one dict a video (records, or pandas' column orientation)."""
    if isinstance(doc, list):
        if not all(isinstance(r, dict) for r in doc):
            raise VideoReadError(f"{where}: expected a list of {{start, end}} records — {_FIX}")
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("start"), dict) and isinstance(doc.get("end"), dict):
        try:
            keys = sorted(doc["start"], key=int)
        except ValueError:
            raise VideoReadError(f"{where}: column-oriented JSON with non-integer row labels — {_FIX}") from None
        return [{c: col.get(k) for c, col in doc.items() if isinstance(col, dict)} for k in keys]
    raise VideoReadError(f"{where}: expected a list of {{start, end}} records (pandas orient='records') — {_FIX}")


def _as_int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


class HDF5Videos:
    """One official ``.h5`` + ``.json`` pair, validated once; frames are read on demand.

    ``ranges``: int64 ``(N, 2)`` of ``[start, end)``; ``categories``: per video (``None`` when absent);
    ``size``: ``(H, W)``; ``total_frames``: frames in the array.
    """

    def __init__(self, path: str | os.PathLike, json_path: str | os.PathLike | None = None) -> None:
        self.path = os.fspath(path)
        self.json_path = os.fspath(json_path) if json_path is not None else os.path.splitext(self.path)[0] + ".json"
        h5py = _h5py()
        if not os.path.isfile(self.path):
            raise VideoReadError(f"{self.path}: missing (no such file) — check data.source")
        try:
            with h5py.File(self.path, "r", locking=False) as f:
                if DATASET not in f:
                    held = ", ".join(sorted(f.keys())[:8]) or "nothing"
                    raise VideoReadError(
                        f"{self.path}: no dataset '{DATASET}' (holds: {held}); TGANv2's layout stores every frame in "
                        f"'{DATASET}' — {_FIX}"
                    )
                d = f[DATASET]
                if not isinstance(d, h5py.Dataset):
                    raise VideoReadError(f"{self.path}: '{DATASET}' is a group, not an array — {_FIX}")
                shape, dtype = tuple(int(s) for s in d.shape), d.dtype
        except VideoReadError:
            raise
        except OSError as e:  # not HDF5, truncated, unreadable
            raise VideoReadError(f"{self.path}: not a readable HDF5 file ({e}) — check or {_FIX}") from None
        if dtype != np.uint8:
            raise VideoReadError(f"{self.path}: '{DATASET}' has dtype {dtype}, expected uint8 — {_FIX}")
        if len(shape) != 4:
            raise VideoReadError(
                f"{self.path}: '{DATASET}' has shape {shape}, expected 4-D (frames, 3, H, W) — {_FIX}"
            )
        if shape[1] == 3:
            self.channels_last, (h, w) = False, shape[2:]
        elif shape[3] == 3:
            self.channels_last, (h, w) = True, shape[1:3]
        else:
            raise VideoReadError(
                f"{self.path}: '{DATASET}' has shape {shape}: no axis of 3 RGB channels at 1 (frames, 3, H, W) "
                f"or 3 (frames, H, W, 3) — {_FIX}"
            )
        if h < 1 or w < 1 or h * w > MAX_FRAME_PIXELS:
            raise VideoReadError(
                f"{self.path}: frames of {w}x{h} pixels (at most {MAX_FRAME_PIXELS} allowed, env "
                "VIDGAN_MAX_FRAME_PIXELS) — check the file"
            )
        self.size, self.total_frames = (h, w), shape[0]
        self.ranges, self.categories = self._load_json()
        self._file: Any = None
        self._pid = -1

    def _load_json(self) -> tuple[np.ndarray, list[str | None]]:
        where = self.json_path
        try:
            with open(where, encoding="utf-8") as f:
                doc = json.load(f)
        except FileNotFoundError:
            raise VideoReadError(
                f"{where}: missing; {self.path} needs the .json of per-video frame ranges beside it (same name) — "
                f"{_FIX}"
            ) from None
        except (ValueError, UnicodeDecodeError) as e:
            raise VideoReadError(f"{where}: not valid JSON ({e}) — {_FIX}") from None
        records = _records(doc, where)
        if not records:
            raise VideoReadError(f"{where}: lists no videos — {_FIX}")
        ranges = np.empty((len(records), 2), np.int64)
        cats: list[str | None] = []
        for k, r in enumerate(records):
            s, e = _as_int(r.get("start")), _as_int(r.get("end"))
            if s is None or e is None:
                raise VideoReadError(f"{where}: video {k} needs integer 'start' and 'end', got {r!r:.120} — {_FIX}")
            if not 0 <= s < e <= self.total_frames:
                raise VideoReadError(
                    f"{where}: video {k} frames [{s}, {e}) leave the {self.total_frames} frames of {self.path} "
                    f"(need 0 <= start < end <= {self.total_frames}) — the .json does not belong to this .h5; {_FIX}"
                )
            ranges[k] = s, e
            c = r.get("category")
            cats.append(None if c is None else str(c))
        return ranges, cats

    def __len__(self) -> int:
        return len(self.ranges)

    def num_frames(self, k: int) -> int:
        return int(self.ranges[k, 1] - self.ranges[k, 0])

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_file": None, "_pid": -1}  # handles never travel into workers

    def _dataset(self) -> Any:
        if self._file is None or self._pid != os.getpid():
            self._file = _h5py().File(self.path, "r", locking=False)
            self._pid = os.getpid()
        return self._file[DATASET]

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file, self._pid = None, -1

    def read(self, k: int, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Frames ``indices`` (0-based inside video ``k``; any order, repeats allowed) as uint8 ``(n, H, W, 3)``.

        Reads one slice when the indices are evenly spaced, else one point selection of the distinct frames.
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = self.num_frames(k)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"{self.path}/{k}: frame indices {idx.tolist()} must lie in [0, {n})")
        h, w = self.size
        if not idx.size:
            return np.zeros((0, h, w, 3), np.uint8)
        a = idx + self.ranges[k, 0]
        step = int(a[1] - a[0]) if a.size > 1 else 1
        try:
            d = self._dataset()
            if step > 0 and np.array_equal(a, a[0] + step * np.arange(a.size)):
                x = d[int(a[0]) : int(a[-1]) + 1 : step]
            else:
                uniq, inv = np.unique(a, return_inverse=True)
                x = d[uniq.tolist()][inv]
        except (OSError, KeyError, ValueError) as e:
            self.close()
            raise VideoReadError(f"{self.path}/{k}: reading frames failed ({e}) — check or {_FIX}") from e
        x = np.asarray(x, dtype=np.uint8)
        return np.ascontiguousarray(x if self.channels_last else x.transpose(0, 2, 3, 1))


_OPEN: dict[tuple[str, str], tuple[tuple, HDF5Videos]] = {}


def _stamp(*paths: str) -> tuple:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def open_hdf5(path: str | os.PathLike, json_path: str | os.PathLike | None = None) -> HDF5Videos:
    """The validated :class:`HDF5Videos` of ``path`` (cached while the .h5 and .json are unchanged)."""
    p = os.fspath(path)
    j = os.fspath(json_path) if json_path is not None else os.path.splitext(p)[0] + ".json"
    key = (os.path.abspath(p), os.path.abspath(j))
    stamp = _stamp(*key)
    hit = _OPEN.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    videos = HDF5Videos(p, j)
    if hit is not None:
        hit[1].close()
    _OPEN[key] = (stamp, videos)
    return videos


def hdf5_videos(path: str | os.PathLike) -> list[VideoInfo]:
    """Every video of an official ``.h5`` as :class:`~vidgan.data.index.VideoInfo` (path ``<h5>/<k>``)."""
    store = open_hdf5(path)
    h, w = store.size
    p = os.fspath(path)
    return [VideoInfo(f"{p}/{k}", str(k), store.num_frames(k), FPS, h, w) for k in range(len(store))]


class HDF5VideoReader:
    """Video ``k`` of an official ``.h5`` (path ``<h5>/<k>``) with :class:`vidgan.io.VideoReader`'s interface:
    uint8 ``(T, H, W, 3)`` RGB frames, ``num_frames``, ``fps``, ``size``, ``read``, ``read_frames``,
    ``iter_frames``, ``verify``."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        sp = split_h5_path(self.path)
        if sp is None:
            raise VideoReadError(f"{self.path}: not a video of an .h5 file (expected <file>.h5/<index>)")
        self._store = open_hdf5(sp[0])
        self._k = sp[1]
        if not 0 <= self._k < len(self._store):
            raise VideoReadError(f"{self.path}: no video {self._k} ({sp[0]} holds {len(self._store)})")
        self._num = self._store.num_frames(self._k)

    @property
    def num_frames(self) -> int:
        return self._num

    @property
    def fps(self) -> float:
        """25.0 (the files store no frame rate)."""
        return FPS

    @property
    def size(self) -> tuple[int, int]:
        return self._store.size

    @property
    def category(self) -> str | None:
        """The JSON record's ``category`` (UCF101's class name), if any."""
        return self._store.categories[self._k]

    def __len__(self) -> int:
        return self._num

    def __enter__(self) -> HDF5VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """No-op (the file handle is shared per process); kept for the context-manager protocol."""

    def __repr__(self) -> str:
        return f"HDF5VideoReader({self.path!r}, frames={self._num}, size={self.size})"

    def __getitem__(self, i: int) -> np.ndarray:
        if i < 0:
            i += self._num
        if not 0 <= i < self._num:
            raise IndexError(f"{self.path}: frame {i} out of range [0, {self._num})")
        return self._store.read(self._k, [i])[0]

    def read(self, start: int = 0, num: int | None = None, stride: int = 1) -> np.ndarray:
        """Frames ``start, start+stride, ...`` (``num``; all remaining when ``None``) as uint8 ``(T, H, W, 3)``."""
        if stride < 1 or start < 0:
            raise ValueError(f"need start >= 0 and stride >= 1, got start={start}, stride={stride}")
        if num is None:
            num = max(0, -(-(self._num - start) // stride))
        idx = start + stride * np.arange(num)
        if idx.size and idx[-1] >= self._num:
            raise IndexError(f"{self.path}: frames {start}..{idx[-1]} (stride {stride}) exceed its {self._num} frames")
        return self._store.read(self._k, idx)

    def read_frames(self, indices: Sequence[int]) -> np.ndarray:
        """Arbitrary frames (any order, repeats allowed) as uint8 ``(len(indices), H, W, 3)``."""
        return self._store.read(self._k, indices)

    def iter_frames(self, chunk: int = 32) -> Iterator[np.ndarray]:
        """Every frame as uint8 ``(H, W, 3)``, read ``chunk`` frames at a time."""
        for s in range(0, self._num, chunk):
            yield from self.read(s, min(chunk, self._num - s))

    def verify(self) -> None:
        """Reads the first and last frame (the array and ranges were validated when the file was opened)."""
        self._store.read(self._k, [0, self._num - 1])


def open_video(path: str | os.PathLike) -> VideoReader | HDF5VideoReader:
    """A reader for any video path: ``<file>.h5/<k>`` or whatever :class:`vidgan.io.VideoReader` opens."""
    return HDF5VideoReader(path) if split_h5_path(path) is not None else VideoReader(path)


def list_video_paths(root: str | os.PathLike) -> list[str]:
    """Every video of ``root``: the ``<h5>/<k>`` paths of an ``.h5`` file, else :func:`vidgan.io.list_videos`."""
    if is_hdf5(root) and os.path.isfile(root):
        p = os.fspath(root)
        return [f"{p}/{k}" for k in range(len(open_hdf5(p)))]
    return list_videos(root)
