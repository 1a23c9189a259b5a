"""Video decoding: containers (PyAV), GIFs (Pillow), frame folders and frame folders inside zips.

Every reader returns stored-video layout: uint8 ``(T, H, W, 3)`` RGB (see :mod:`vidgan.core.video`).

Colour policy (applies to every source): grayscale, palette and ``LA`` frames are **converted to
RGB** by replicating the luma channel; RGBA frames **drop alpha** (no compositing). High-bit-depth or
float images (PIL modes ``I``, ``I;16``, ``F``) raise :class:`VideoReadError` instead of silently
clipping.

Path forms accepted by :class:`VideoReader`:

* ``clip.mp4`` / ``.avi`` / ``.mkv`` / ``.webm`` / ``.mov`` / ``.gif``: a container file;
* ``frames_dir/``: a folder that directly holds ``png/jpg/jpeg/bmp`` frames, in natural order
  (``frame2`` before ``frame10``);
* ``archive.zip/subdir``: a frame folder inside a zip (StyleGAN-V layout: a zip of folders of frames).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterator, Sequence

import av
import numpy as np
from PIL import Image, ImageSequence

__all__ = [
    "IMAGE_EXTS",
    "VIDEO_EXTS",
    "VideoReadError",
    "VideoReader",
    "list_videos",
    "natural_key",
    "read_video",
    "split_zip_path",
]

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp")
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".gif")
DEFAULT_FOLDER_FPS = 25.0


class VideoReadError(ValueError):
    """A video could not be read; the message names the file and the reason."""


def natural_key(s: str) -> list:
    """Sort key that orders digit runs numerically: ``frame2`` < ``frame10``."""
    # re.split with a capture group alternates text, digits, text... so types never collide.
    return [int(t) if i % 2 else t.lower() for i, t in enumerate(re.split(r"(\d+)", s))]


def split_zip_path(path: str) -> tuple[str, str] | None:
    """``"a/b.zip/sub/dir"`` -> ``("a/b.zip", "sub/dir")``; ``None`` when no ``.zip`` component."""
    parts = re.split(r"[\\/]", os.fspath(path))
    for i, p in enumerate(parts[:-1]):
        if p.lower().endswith(".zip"):
            return "/".join(parts[: i + 1]) or "/", "/".join(x for x in parts[i + 1 :] if x)
    return None


def _pil_to_rgb(img: Image.Image, name: str) -> np.ndarray:
    """PIL image -> uint8 ``(H, W, 3)`` following the module's colour policy."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        raise VideoReadError(
            f"{name}: unsupported {img.mode} (high bit depth / float) frame; convert it to 8-bit RGB first"
        )
    if img.mode != "RGB":
        img = img.convert("RGB")  # L/LA/P -> replicated luma; RGBA/CMYK -> RGB (alpha dropped)
    return np.asarray(img, dtype=np.uint8)


class VideoReader:
    """Random-access reader returning uint8 ``(T, H, W, 3)`` RGB frames.

    Holds no open file handles between calls, so it pickles into DataLoader workers.
    Containers: random access seeks to the nearest keyframe at or before the wanted frame (using the
    packets' pts and ``time_base``), then decodes forward; it falls back to decoding from the start
    when the decoded timestamps do not match the demuxed ones.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._pts: list[int] | None = None  # presentation timestamps, frame order (containers)
        self._kf: list[int] | None = None  # keyframe pts, sorted
        zp = split_zip_path(self.path)
        if zp is not None and not os.path.isdir(self.path):
            self._kind = "zip"
            self._open_zip(*zp)
        elif os.path.isdir(self.path):
            self._kind = "folder"
            names = [n for n in os.listdir(self.path) if n.lower().endswith(IMAGE_EXTS)]
            names = [n for n in names if os.path.isfile(os.path.join(self.path, n))]
            if not names:
                raise VideoReadError(f"{self.path}: zero frames (folder holds no {'/'.join(IMAGE_EXTS)} files)")
            self._members = sorted(names, key=natural_key)
            self._fps = DEFAULT_FOLDER_FPS
            self._probe_image(0)
        elif not os.path.exists(self.path):
            raise VideoReadError(f"{self.path}: missing (no such file or folder)")
        elif os.path.getsize(self.path) == 0:
            raise VideoReadError(f"{self.path}: empty file (0 bytes)")
        elif self.path.lower().endswith(".gif"):
            self._kind = "gif"
            self._open_gif()
        else:
            self._kind = "av"
            self._open_av()

    # ------------------------------------------------------------------ opening / probing
    def _open_zip(self, zpath: str, inner: str) -> None:
        if not os.path.isfile(zpath):
            raise VideoReadError(f"{self.path}: missing zip archive {zpath}")
        self._zip_path, self._zip_inner = zpath, inner.strip("/")
        try:
            with zipfile.ZipFile(zpath) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError) as e:
            raise VideoReadError(f"{self.path}: corrupt zip archive {zpath} ({e})") from e
        prefix = self._zip_inner + "/" if self._zip_inner else ""
        members = [
            n for n in names if n.startswith(prefix) and "/" not in n[len(prefix) :] and n.lower().endswith(IMAGE_EXTS)
        ]
        if not members:
            raise VideoReadError(f"{self.path}: zero frames (no images directly under '{inner}' in {zpath})")
        self._members = sorted(members, key=natural_key)
        self._fps = DEFAULT_FOLDER_FPS
        self._probe_image(0)

    def _load_image(self, i: int, zf: zipfile.ZipFile | None = None) -> np.ndarray:
        name = self._members[i]
        try:
            if self._kind == "zip":
                if zf is None:
                    with zipfile.ZipFile(self._zip_path) as z:
                        data = z.read(name)
                else:
                    data = zf.read(name)
                label = f"{self._zip_path}/{name}"
                img = Image.open(io.BytesIO(data))
            else:
                label = os.path.join(self.path, name)
                img = Image.open(label)
            with img:
                img.load()
                arr = _pil_to_rgb(img, label)
        except VideoReadError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise VideoReadError(f"{self.path}: frame {name} is truncated or corrupt ({e})") from e
        if hasattr(self, "_size") and arr.shape[:2] != self._size:
            raise VideoReadError(
                f"{self.path}: frame {name} has size {arr.shape[:2]} but frame 0 has {self._size}; "
                "all frames of a video must share one size"
            )
        return arr

    def _probe_image(self, i: int) -> None:
        self._num = len(self._members)
        self._size = self._load_image(i).shape[:2]

    def _open_gif(self) -> None:
        """GIF frames are laid on a constant time grid of one base delay.

        Pillow's writer merges identical consecutive frames into one longer frame, so a frame of
        ``k`` base delays is repeated ``k`` times. The base delay is the one vidgan's writer records in
        the GIF comment (``vidgan:delay_ms=40``), else the shortest frame delay in the file.
        """
        try:
            with Image.open(self.path) as im:
                first = _pil_to_rgb(im, self.path)
                comment = im.info.get("comment", b"")
                delays = []
                for fr in ImageSequence.Iterator(im):
                    delays.append(int(fr.info.get("duration") or 0))
        except (OSError, ValueError, EOFError) as e:
            raise VideoReadError(f"{self.path}: not a readable GIF, or truncated/corrupt ({e})") from e
        m = re.search(rb"vidgan:delay_ms=(\d+)", comment if isinstance(comment, bytes) else b"")
        positive = [d for d in delays if d > 0]
        base = int(m.group(1)) if m else (min(positive) if positive else 100)  # no delay: ~10 fps
        repeats = [max(1, round(d / base)) if d > 0 else 1 for d in delays]
        self._gif_frame_of = np.repeat(np.arange(len(delays)), repeats)  # timeline index -> GIF frame
        self._num, self._size = len(self._gif_frame_of), first.shape[:2]
        self._fps = 1000.0 / base

    def _open_av(self) -> None:
        try:
            with av.open(self.path) as c:
                if not c.streams.video:
                    raise VideoReadError(f"{self.path}: not a video (container has no video stream)")
                s = c.streams.video[0]
                rate = s.average_rate or s.guessed_rate or s.base_rate
                self._fps = float(rate) if rate else DEFAULT_FOLDER_FPS
                self._size = (int(s.codec_context.height), int(s.codec_context.width))
                n = int(s.frames or 0)
                if n <= 0:  # no count in the metadata (mkv/webm): count packets, no decoding
                    n = sum(1 for p in c.demux(s) if p.size > 0)
            if n <= 0 or self._size[0] <= 0:
                raise VideoReadError(f"{self.path}: zero frames in the video stream")
            self._num = n
        except VideoReadError:
            raise
        except (av.error.FFmpegError, OSError, ValueError) as e:
            raise VideoReadError(f"{self.path}: not a video, or truncated/corrupt ({e})") from e

    # ------------------------------------------------------------------ properties
    @property
    def num_frames(self) -> int:
        """Number of frames (container metadata, else demuxed packet count)."""
        return self._num

    @property
    def fps(self) -> float:
        """Frames per second (frame folders and zips: 25.0)."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` of every frame."""
        return self._size

    def __len__(self) -> int:
        return self._num

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """No-op (no handles are held); kept for the context-manager protocol."""

    def __repr__(self) -> str:
        return f"VideoReader({self.path!r}, frames={self._num}, size={self._size}, fps={self._fps:g})"

    def __getitem__(self, i: int) -> np.ndarray:
        """Frame ``i`` (negative counts from the end) as uint8 ``(H, W, 3)``."""
        if i < 0:
            i += self._num
        if not 0 <= i < self._num:
            raise IndexError(f"{self.path}: frame {i} out of range [0, {self._num})")
        return self.read(i, 1)[0]

    # ------------------------------------------------------------------ reading
    def read(self, start: int = 0, num: int | None = None, stride: int = 1) -> np.ndarray:
        """Frames ``start, start+stride, ...`` (``num`` of them; all remaining when ``None``).

        Returns uint8 ``(T, H, W, 3)``. Raises ``IndexError`` when the span leaves the video and
        :class:`VideoReadError` when decoding fails (e.g. a truncated file).
        """
        if stride < 1 or start < 0:
            raise ValueError(f"need start >= 0 and stride >= 1, got start={start}, stride={stride}")
        if num is None:
            num = max(0, -(-(self._num - start) // stride))
        idx = [start + k * stride for k in range(num)]
        if idx and idx[-1] >= self._num:
            raise IndexError(f"{self.path}: frames {start}..{idx[-1]} (stride {stride}) exceed its {self._num} frames")
        h, w = self._size
        if not idx:
            return np.zeros((0, h, w, 3), np.uint8)
        if self._kind in ("folder", "zip"):
            if self._kind == "zip":
                with zipfile.ZipFile(self._zip_path) as zf:
                    return np.stack([self._load_image(i, zf) for i in idx])
            return np.stack([self._load_image(i) for i in idx])
        frames = dict(self._decode_range(idx[0], idx[-1], set(idx)))
        return np.stack([frames[i] for i in idx])

    def read_frames(self, indices: Sequence[int]) -> np.ndarray:
        """Arbitrary frames (any order, repeats allowed) as uint8 ``(len(indices), H, W, 3)``."""
        idx = [int(i) for i in indices]
        if any(not 0 <= i < self._num for i in idx):
            raise IndexError(f"{self.path}: frame indices {idx} must lie in [0, {self._num})")
        h, w = self._size
        if not idx:
            return np.zeros((0, h, w, 3), np.uint8)
        if self._kind in ("folder", "zip"):
            return self._read_zip(idx) if self._kind == "zip" else np.stack([self._load_image(i) for i in idx])
        want = set(idx)
        frames = dict(self._decode_range(min(want), max(want), want))
        return np.stack([frames[i] for i in idx])

    def _read_zip(self, idx: list[int]) -> np.ndarray:
        with zipfile.ZipFile(self._zip_path) as zf:
            return np.stack([self._load_image(i, zf) for i in idx])

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Stream every frame as uint8 ``(H, W, 3)`` in constant memory."""
        if self._kind == "zip":
            with zipfile.ZipFile(self._zip_path) as zf:  # one open archive for the whole stream
                for i in range(self._num):
                    yield self._load_image(i, zf)
        elif self._kind == "folder":
            for i in range(self._num):
                yield self._load_image(i)
        else:
            for _, f in self._decode_range(0, self._num - 1, None):
                yield f

    def _decode_range(self, first: int, last: int, want: set[int] | None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` for frames ``first..last`` (only those in ``want`` when given)."""
        if self._kind == "gif":
            yield from self._decode_gif(first, last, want)
            return
        if first > 0 and self._seek_table():
            got = self._decode_av_seek(first, last, want)
            if got is not None:
                yield from got
                return
        yield from self._decode_av(first, last, want)

    def _decode_gif(self, first: int, last: int, want: set[int] | None):
        ids = [i for i in range(first, last + 1) if want is None or i in want]
        by_frame: dict[int, list[int]] = {}
        for i in ids:
            by_frame.setdefault(int(self._gif_frame_of[i]), []).append(i)
        try:
            with Image.open(self.path) as im:
                for j, fr in enumerate(ImageSequence.Iterator(im)):
                    if j > self._gif_frame_of[last]:
                        break
                    if j in by_frame:
                        arr = _pil_to_rgb(fr, self.path)
                        for i in by_frame[j]:
                            yield i, arr
        except (OSError, ValueError, EOFError) as e:
            raise VideoReadError(f"{self.path}: GIF truncated or corrupt ({e})") from e

    def _seek_table(self) -> bool:
        """Demux once (no decoding) to record every frame's pts and the keyframes; False if unusable."""
        if self._pts is None:
            pts, kf = [], []
            try:
                with av.open(self.path) as c:
                    for p in c.demux(c.streams.video[0]):
                        if p.size == 0:
                            continue
                        if p.pts is None:
                            pts = []
                            break
                        pts.append(int(p.pts))
                        if p.is_keyframe:
                            kf.append(int(p.pts))
            except av.error.FFmpegError:
                pts = []
            self._pts, self._kf = sorted(pts), sorted(kf)
        return len(self._pts) == self._num and bool(self._kf)

    def _decode_av_seek(self, first: int, last: int, want: set[int] | None) -> list | None:
        """Seek to the keyframe at or before ``first`` and decode forward, identifying frames by pts.

        Returns ``[(index, frame), ...]`` or ``None`` when the decoded pts do not match the demuxed
        ones (the caller then decodes from the start).
        """
        total = len(want) if want is not None else last - first + 1
        index_of = {p: i for i, p in enumerate(self._pts)}
        target = self._pts[first]
        kf = max((k for k in self._kf if k <= target), default=self._kf[0])
        out = []
        try:
            with av.open(self.path) as c:
                s = c.streams.video[0]
                s.thread_type = "AUTO"
                c.seek(kf, stream=s, backward=True, any_frame=False)
                for frame in c.decode(s):
                    i = index_of.get(frame.pts)
                    if i is None:
                        return None
                    if i > last:
                        break
                    if i >= first and (want is None or i in want):
                        out.append((i, frame.to_ndarray(format="rgb24")))
                        if len(out) == total:
                            break
        except (av.error.FFmpegError, OSError):
            return None
        return out if len(out) == total else None

    def _decode_av(self, first: int, last: int, want: set[int] | None) -> Iterator[tuple[int, np.ndarray]]:
        """Decode from the start, counting frames, and yield those in [first, last] (and ``want``)."""
        done, i = 0, -1
        total = len(want) if want is not None else last - first + 1
        try:
            with av.open(self.path) as c:
                s = c.streams.video[0]
                s.thread_type = "AUTO"
                for i, frame in enumerate(c.decode(s)):
                    if i > last:
                        break
                    if i >= first and (want is None or i in want):
                        yield i, frame.to_ndarray(format="rgb24")
                        done += 1
                        if done == total:
                            return
        except (av.error.FFmpegError, OSError) as e:
            raise VideoReadError(f"{self.path}: truncated or corrupt while decoding ({e})") from e
        if done < total:
            raise VideoReadError(
                f"{self.path}: truncated: metadata promises {self._num} frames but decoding stopped after {i + 1}"
            )


def read_video(path: str | os.PathLike, start: int = 0, num: int | None = None, stride: int = 1) -> np.ndarray:
    """Read frames ``start, start+stride, ...`` of any supported video into uint8 ``(T, H, W, 3)``."""
    with VideoReader(path) as r:
        return r.read(start, num, stride)


def _image_names(names: list[str]) -> list[str]:
    return [n for n in names if n.lower().endswith(IMAGE_EXTS)]


def _zip_frame_dirs(zpath: str) -> list[str]:
    """``zpath/<dir>`` for each folder inside the zip that directly holds images."""
    try:
        with zipfile.ZipFile(zpath) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as e:
        raise VideoReadError(f"{zpath}: corrupt zip archive ({e})") from e
    dirs = {n.rsplit("/", 1)[0] if "/" in n else "" for n in _image_names(names)}
    return [zpath + "/" + d if d else zpath for d in dirs]


def list_videos(root: str | os.PathLike) -> list[str]:
    """Every video below ``root``, naturally sorted.

    Finds container files (``.mp4 .avi .mkv .webm .mov .gif``), frame folders (folders that
    directly hold images) and frame folders inside ``.zip`` files (``archive.zip/subdir``). ``root``
    may itself be a ``.zip`` or a single video file.
    """
    root = os.fspath(root)
    if os.path.isfile(root):
        if root.lower().endswith(".zip"):
            return sorted(_zip_frame_dirs(root), key=natural_key)
        return [root]
    if split_zip_path(root) is not None and not os.path.exists(root):
        zpath, inner = split_zip_path(root)
        return sorted(
            (d for d in _zip_frame_dirs(zpath) if (d + "/").startswith(root.rstrip("/") + "/")),
            key=natural_key,
        )
    if not os.path.isdir(root):
        raise VideoReadError(f"{root}: missing (no such file or folder)")
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if _image_names(filenames):
            out.append(dirpath)
        for f in filenames:
            low = f.lower()
            if f.startswith("."):
                continue
            if low.endswith(VIDEO_EXTS):
                out.append(os.path.join(dirpath, f))
            elif low.endswith(".zip"):
                try:
                    out.extend(_zip_frame_dirs(os.path.join(dirpath, f)))
                except VideoReadError:  # keep it listed so readers report it as a bad video
                    out.append(os.path.join(dirpath, f))
    return sorted(out, key=natural_key)
