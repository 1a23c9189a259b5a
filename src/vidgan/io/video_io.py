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

Bounded reads: nothing is decoded or inflated before its declared size is checked. A frame (image header,
GIF screen, video stream) may declare at most :data:`MAX_FRAME_PIXELS` pixels (default 16384 x 16384, env
``VIDGAN_MAX_FRAME_PIXELS``); a zip member at most :data:`MAX_MEMBER_BYTES` uncompressed bytes (4 bytes a
pixel at that limit, plus 16 MiB of metadata), at most 4 bytes a declared pixel + 4 MiB, and a deflated
member no more than :data:`MAX_ZIP_RATIO` times its compressed size (deflate cannot exceed ~1032:1, so a
larger ratio is a lying header). Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) still
applies as well. Every decoder failure (Pillow, zlib, zipfile, PyAV...) surfaces as one
:class:`VideoReadError` line naming the file (and the zip member) and the reason.

:meth:`VideoReader.verify` is the deeper start-up check used by the dataset index (see its doc).
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence

import av
import numpy as np
from PIL import Image, ImageSequence

__all__ = [
    "IMAGE_EXTS",
    "MAX_FRAME_PIXELS",
    "MAX_MEMBER_BYTES",
    "MAX_ZIP_RATIO",
    "VIDEO_EXTS",
    "VideoReadError",
    "VideoReader",
    "list_videos",
    "natural_key",
    "read_image",
    "read_video",
    "split_zip_path",
]

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp")
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".gif")
DEFAULT_FOLDER_FPS = 25.0


class VideoReadError(ValueError):
    """A video could not be read; the message names the file and the reason."""


def _pixels_from_env(default: int = 16384 * 16384) -> int:
    raw = os.environ.get("VIDGAN_MAX_FRAME_PIXELS", "").strip()
    if not raw:
        return default
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n <= 0:
        raise ValueError(
            f"VIDGAN_MAX_FRAME_PIXELS: {raw!r} is not a positive pixel count — unset it or give e.g. {default}"
        )
    return n


MAX_FRAME_PIXELS = _pixels_from_env()  # largest W*H any frame may declare (16384 x 16384 by default)
MAX_MEMBER_BYTES = 4 * MAX_FRAME_PIXELS + (16 << 20)  # largest uncompressed zip member (RGBA at the limit)
MAX_ZIP_RATIO = 1100  # deflate tops out near 1032:1; a larger declared ratio is a lying header or a bomb
_IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")  # Pillow plugins allowed for frame files (JPEG covers MPO)
_HIGH_DEPTH_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")
_FIX = {
    "corrupt": "re-encode the file or remove it from the dataset",
    "size": "resize the frames to one size (e.g. with `vidgan prepare`)",
    "limit": "resize it, or raise VIDGAN_MAX_FRAME_PIXELS if it is genuine",
    "depth": "convert it to 8-bit RGB first (e.g. `convert in.png -depth 8 out.png`)",
}
# What decoders raise on malformed input (Pillow: OSError/SyntaxError/ValueError/EOFError/struct.error and,
# for a few plugins, IndexError/KeyError; zipfile: BadZipFile/NotImplementedError; zlib.error; PyAV: FFmpegError).
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    zlib.error,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    IndexError,
    KeyError,
    MemoryError,
    Image.DecompressionBombError,
    av.error.FFmpegError,
)


def _why(e: BaseException) -> str:
    """One line: ``ExcType: first line of its message``."""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def _corrupt(label: str, what: str, e: BaseException) -> VideoReadError:
    if isinstance(e, Image.DecompressionBombError):  # Pillow's guard (2 x Image.MAX_IMAGE_PIXELS) fired first
        return VideoReadError(
            f"{label}: declares too many pixels, refused by Pillow's decompression-bomb guard ({_why(e)}) — "
            "resize it, or raise PIL.Image.MAX_IMAGE_PIXELS (and VIDGAN_MAX_FRAME_PIXELS) if it is genuine"
        )
    return VideoReadError(f"{label}: {what} ({_why(e)}) — {_FIX['corrupt']}")


def _check_pixels(label: str, w: int, h: int) -> None:
    if w <= 0 or h <= 0:
        raise VideoReadError(f"{label}: declares an empty {w}x{h} frame — {_FIX['corrupt']}")
    if w * h > MAX_FRAME_PIXELS:
        raise VideoReadError(
            f"{label}: declares {w}x{h} = {w * h} pixels, over the limit of {MAX_FRAME_PIXELS} "
            f"(a decompression bomb or an oversized frame) — {_FIX['limit']}"
        )


def _check_header(img: Image.Image, label: str) -> tuple[int, int]:
    """Declared size, mode and bit depth of an opened (not yet decoded) image; returns ``(H, W)``."""
    w, h = img.size
    _check_pixels(label, w, h)
    raw = [t[3] for t in (getattr(img, "tile", None) or []) if len(t) > 3 and isinstance(t[3], str)]
    # Pillow opens a 16-bit-per-channel RGB(A) PNG as 8-bit "RGB" (rawmode "RGB;16B") and would clip it silently
    if img.mode in _HIGH_DEPTH_MODES or (img.format in ("PNG", "TIFF") and any(";16" in r for r in raw)):
        kind = f"{img.mode}, stored as {raw[0]}" if raw and raw[0] != img.mode else img.mode
        raise VideoReadError(
            f"{label}: unsupported high bit depth / float frame ({kind}); vidgan reads 8-bit frames only — "
            + _FIX["depth"]
        )
    return h, w


def _check_member(info: zipfile.ZipInfo, label: str) -> None:
    """Declared sizes of a zip member, before a byte of it is inflated."""
    size, packed = info.file_size, max(info.compress_size, 1)
    if size > MAX_MEMBER_BYTES:
        raise VideoReadError(
            f"{label}: member declares {size} bytes uncompressed, over the limit of {MAX_MEMBER_BYTES} "
            f"(a zip bomb or an oversized frame) — re-create the zip; {_FIX['limit']}"
        )
    if info.compress_type == zipfile.ZIP_DEFLATED and size > (1 << 20) and size > MAX_ZIP_RATIO * packed:
        raise VideoReadError(
            f"{label}: member declares a {size / packed:.0f}:1 compression ratio ({packed} -> {size} bytes), "
            f"impossible for deflate (a zip bomb or a corrupt header) — re-create the zip"
        )


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


def read_image(path: str | os.PathLike, formats: Sequence[str] = (*_IMAGE_FORMATS, "TIFF")) -> np.ndarray:
    """One image file as uint8 ``(H, W, 3)`` under the module's colour policy and limits.

    Declared pixels are checked before decoding; 16-bit / float images raise :class:`VideoReadError`
    (never clipped); a missing file raises ``FileNotFoundError``; any decoder failure is a ``VideoReadError``.
    """
    label = os.fspath(path)
    with open(label, "rb") as fh:
        try:
            with Image.open(fh, formats=list(formats)) as img:
                _check_header(img, label)
                img.load()
                return _pil_to_rgb(img, label)
        except VideoReadError:
            raise
        except DECODE_ERRORS as e:
            raise _corrupt(label, "not a readable image, or truncated/corrupt", e) from e


def _pil_to_rgb(img: Image.Image, name: str) -> np.ndarray:
    """PIL image -> uint8 ``(H, W, 3)`` following the module's colour policy."""
    if img.mode in _HIGH_DEPTH_MODES:
        raise VideoReadError(
            f"{name}: unsupported {img.mode} (high bit depth / float) frame; vidgan reads 8-bit frames only — "
            + _FIX["depth"]
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
            # isfile follows links: dangling or looping symlinks are left out
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
        except DECODE_ERRORS as e:
            raise VideoReadError(f"{self.path}: corrupt zip archive {zpath} ({_why(e)}) — {_FIX['corrupt']}") from e
        prefix = self._zip_inner + "/" if self._zip_inner else ""
        members = [
            n for n in names if n.startswith(prefix) and "/" not in n[len(prefix) :] and n.lower().endswith(IMAGE_EXTS)
        ]
        if not members:
            raise VideoReadError(f"{self.path}: zero frames (no images directly under '{inner}' in {zpath})")
        self._members = sorted(members, key=natural_key)
        self._fps = DEFAULT_FOLDER_FPS
        self._probe_image(0)

    def _load_image(self, i: int, zf: zipfile.ZipFile | None = None, header_only: bool = False) -> np.ndarray:
        """Frame ``i`` of a folder / zip as uint8 ``(H, W, 3)`` (``header_only``: checks only, returns ``None``).

        Declared pixels, bit depth and (zips) the member's declared sizes are checked before decoding.
        """
        name = self._members[i]
        if self._kind == "zip":
            label = f"{self._zip_path} (member {name})"
            try:
                if zf is None:
                    with zipfile.ZipFile(self._zip_path) as z:
                        hw, arr = self._zip_image(z, name, label, header_only)
                else:
                    hw, arr = self._zip_image(zf, name, label, header_only)
            except VideoReadError:
                raise
            except DECODE_ERRORS as e:
                raise _corrupt(label, "frame is truncated or corrupt", e) from e
        else:
            label = os.path.join(self.path, name)
            try:
                with open(label, "rb") as fh, Image.open(fh, formats=_IMAGE_FORMATS) as img:
                    hw = _check_header(img, label)
                    if header_only:
                        arr = None
                        if img.format == "PNG":  # a whole PNG ends with an IEND chunk: one 12-byte read
                            fh.seek(-12, os.SEEK_END)
                            if fh.read(12)[4:8] != b"IEND":
                                raise VideoReadError(
                                    f"{label}: truncated PNG (no IEND chunk at the end) — {_FIX['corrupt']}"
                                )
                    else:
                        img.load()
                        arr = _pil_to_rgb(img, label)
            except VideoReadError:
                raise
            except DECODE_ERRORS as e:
                raise _corrupt(label, "frame is truncated or corrupt", e) from e
        if arr is not None:
            hw = arr.shape[:2]
        if hasattr(self, "_size") and hw != self._size:
            raise VideoReadError(
                f"{label}: frame has size {hw} but frame 0 ({self._members[0]}) has {self._size}; "
                f"all frames of a video must share one size — {_FIX['size']}"
            )
        return arr

    def _zip_image(
        self, zf: zipfile.ZipFile, name: str, label: str, header_only: bool
    ) -> tuple[tuple[int, int], np.ndarray | None]:
        info = zf.getinfo(name)
        _check_member(info, label)  # declared sizes, before anything is inflated
        with zf.open(info) as fh, Image.open(fh, formats=_IMAGE_FORMATS) as img:
            h, w = _check_header(img, label)  # reads (and inflates) only the first few KiB
            bound = 4 * w * h + (4 << 20)
            if info.file_size > bound:
                raise VideoReadError(
                    f"{label}: member declares {info.file_size} bytes for a {w}x{h} frame (at most {bound} "
                    "expected: a zip bomb or a corrupt member) — re-create the zip"
                )
            if header_only:
                return (h, w), None
            img.load()  # inflates at most info.file_size bytes (zipfile stops there)
            return (h, w), _pil_to_rgb(img, label)

    def _probe_image(self, i: int) -> None:
        self._num = len(self._members)
        self._size = self._load_image(i).shape[:2]

    def verify(self) -> None:
        """The start-up check of the dataset index: catch now what reading would hit later.

        * frame folders / zips: every frame's header, without decoding: declared size (all equal to frame 0,
          under :data:`MAX_FRAME_PIXELS`), mode and bit depth (16-bit / float refused), that it is an image
          at all; zip members' declared sizes and ratio; PNG files in folders must end with IEND (truncation).
        * containers: demux every packet (no decoding) and compare the count with the frames the metadata
          promises (a truncated faststart mp4 keeps its full index but loses packets), then decode the first
          frame. The demuxed timestamps become the seek table.
        * GIFs: opening already walked every frame.

        Not caught: damaged compressed data inside a frame whose container and headers are intact; reading
        it raises :class:`VideoReadError` (datasets then substitute another video unless ``data.strict``).
        """
        if self._kind == "folder":
            for i in range(self._num):
                self._load_image(i, header_only=True)
        elif self._kind == "zip":
            try:
                with zipfile.ZipFile(self._zip_path) as zf:
                    for i in range(self._num):
                        self._load_image(i, zf, header_only=True)
            except VideoReadError:
                raise
            except DECODE_ERRORS as e:
                raise VideoReadError(f"{self.path}: corrupt zip archive ({_why(e)}) — {_FIX['corrupt']}") from e
        elif self._kind == "av":
            self._verify_av()

    def _verify_av(self) -> None:
        pts: list[int] = []
        kf: list[int] = []
        n = 0
        try:
            with av.open(self.path) as c:
                for p in c.demux(c.streams.video[0]):
                    if p.size == 0:
                        continue
                    n += 1
                    if p.pts is None or pts is None:
                        pts = None
                        continue
                    pts.append(int(p.pts))
                    if p.is_keyframe:
                        kf.append(int(p.pts))
            if n < self._num:
                raise VideoReadError(
                    f"{self.path}: truncated: the container promises {self._num} frames but holds {n} — "
                    "re-download or re-encode it"
                )
            with av.open(self.path) as c:
                for frame in c.decode(c.streams.video[0]):
                    self._frame_array(frame, 0)
                    break
                else:
                    raise VideoReadError(f"{self.path}: no frame decodes — {_FIX['corrupt']}")
        except VideoReadError:
            raise
        except DECODE_ERRORS as e:
            raise _corrupt(self.path, "truncated or corrupt", e) from e
        if self._pts is None:
            self._pts, self._kf = sorted(pts or []), sorted(kf if pts else [])

    def _frame_array(self, frame: av.VideoFrame, i: int) -> np.ndarray:
        if (frame.height, frame.width) != tuple(self._size):
            raise VideoReadError(
                f"{self.path}: frame {i} is {frame.width}x{frame.height} but the stream declares "
                f"{self._size[1]}x{self._size[0]} — re-encode it at one size"
            )
        return frame.to_ndarray(format="rgb24")

    def _open_gif(self) -> None:
        """GIF frames are laid on a constant time grid of one base delay.

        Pillow's writer merges identical consecutive frames into one longer frame, so a frame of
        ``k`` base delays is repeated ``k`` times. The base delay is the one vidgan's writer records in
        the GIF comment (``vidgan:delay_ms=40``), else the shortest frame delay in the file.
        """
        try:
            with Image.open(self.path, formats=["GIF"]) as im:
                _check_header(im, self.path)  # the logical screen, before any frame is decoded
                first = _pil_to_rgb(im, self.path)
                comment = im.info.get("comment", b"")
                delays = []
                for fr in ImageSequence.Iterator(im):
                    delays.append(int(fr.info.get("duration") or 0))
        except VideoReadError:
            raise
        except DECODE_ERRORS as e:
            raise _corrupt(self.path, "not a readable GIF, or truncated/corrupt", e) from e
        m = re.search(rb"vidgan:delay_ms=(\d+)", comment if isinstance(comment, bytes) else b"")
        positive = [d for d in delays if d > 0]
        base = int(m.group(1)) if m else (min(positive) if positive else 100)  # no delay: ~10 fps
        repeats = [max(1, round(d / base)) if d > 0 else 1 for d in delays]
        # timeline index i shows GIF frame searchsorted(starts, i, "right") - 1 (O(GIF frames) memory, however
        # long the declared delays are)
        self._gif_starts = np.cumsum([0, *repeats])
        self._num, self._size = int(self._gif_starts[-1]), first.shape[:2]
        self._fps = 1000.0 / base

    def _open_av(self) -> None:
        try:
            with av.open(self.path) as c:
                if not c.streams.video:
                    raise VideoReadError(f"{self.path}: not a video (container has no video stream)")
                s = c.streams.video[0]
                rate = s.average_rate or s.guessed_rate or s.base_rate
                self._fps = float(rate) if rate else DEFAULT_FOLDER_FPS
                if s.codec_context is None:  # an unknown or damaged codec tag: nothing could decode it
                    raise VideoReadError(f"{self.path}: not a video (no decoder for its stream) — {_FIX['corrupt']}")
                self._size = (int(s.codec_context.height), int(s.codec_context.width))
                if self._size[0] > 0 and self._size[1] > 0:  # declared size, checked before any decoding
                    _check_pixels(self.path, self._size[1], self._size[0])
                n = int(s.frames or 0)
                if n <= 0:  # no count in the metadata (mkv/webm): count packets, no decoding
                    n = sum(1 for p in c.demux(s) if p.size > 0)
            if n <= 0 or self._size[0] <= 0 or self._size[1] <= 0:
                raise VideoReadError(f"{self.path}: zero frames in the video stream — {_FIX['corrupt']}")
            self._num = n
        except VideoReadError:
            raise
        except DECODE_ERRORS as e:
            raise _corrupt(self.path, "not a video, or truncated/corrupt", e) from e

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

    def _gif_frame(self, i: int) -> int:
        return int(np.searchsorted(self._gif_starts, i, side="right")) - 1

    def _decode_gif(self, first: int, last: int, want: set[int] | None):
        ids = [i for i in range(first, last + 1) if want is None or i in want]
        by_frame: dict[int, list[int]] = {}
        for i in ids:
            by_frame.setdefault(self._gif_frame(i), []).append(i)
        stop = self._gif_frame(last)
        try:
            with Image.open(self.path, formats=["GIF"]) as im:
                _check_header(im, self.path)
                for j, fr in enumerate(ImageSequence.Iterator(im)):
                    if j > stop:
                        break
                    if j in by_frame:
                        arr = _pil_to_rgb(fr, self.path)
                        if arr.shape[:2] != tuple(self._size):
                            raise VideoReadError(f"{self.path}: GIF frame {j} changed size — {_FIX['corrupt']}")
                        for i in by_frame[j]:
                            yield i, arr
        except VideoReadError:
            raise
        except DECODE_ERRORS as e:
            raise _corrupt(self.path, "GIF truncated or corrupt", e) from e

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
            except DECODE_ERRORS:
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
                        out.append((i, self._frame_array(frame, i)))
                        if len(out) == total:
                            break
        except VideoReadError:
            raise
        except DECODE_ERRORS:
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
                        yield i, self._frame_array(frame, i)
                        done += 1
                        if done == total:
                            return
        except VideoReadError:
            raise
        except DECODE_ERRORS as e:
            raise _corrupt(self.path, "truncated or corrupt while decoding", e) from e
        if done < total:
            raise VideoReadError(
                f"{self.path}: truncated: metadata promises {self._num} frames but decoding stopped after {i + 1} "
                "— re-download or re-encode it"
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
    except DECODE_ERRORS as e:
        raise VideoReadError(f"{zpath}: corrupt zip archive ({_why(e)}) — {_FIX['corrupt']}") from e
    dirs = {n.rsplit("/", 1)[0] if "/" in n else "" for n in _image_names(names)}
    return [zpath + "/" + d if d else zpath for d in dirs]


def list_videos(root: str | os.PathLike) -> list[str]:
    """Every video below ``root``, naturally sorted.

    Finds container files (``.mp4 .avi .mkv .webm .mov .gif``), frame folders (folders that
    directly hold images) and frame folders inside ``.zip`` files (``archive.zip/subdir``). ``root``
    may itself be a ``.zip`` or a single video file. Symbolic links to folders are not followed (so a link
    loop cannot recurse); links to files are, and dangling or looping links are ignored.
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
        if any(os.path.isfile(os.path.join(dirpath, n)) for n in _image_names(filenames)):
            out.append(dirpath)
        for f in filenames:
            low = f.lower()
            if f.startswith("."):
                continue
            full = os.path.join(dirpath, f)
            if not os.path.exists(full):  # dangling or looping symlink (exists() follows links)
                continue
            if low.endswith(VIDEO_EXTS):
                out.append(os.path.join(dirpath, f))
            elif low.endswith(".zip"):
                try:
                    out.extend(_zip_frame_dirs(os.path.join(dirpath, f)))
                except VideoReadError:  # keep it listed so readers report it as a bad video
                    out.append(os.path.join(dirpath, f))
    return sorted(out, key=natural_key)
