"""Video encoding (PyAV / Pillow / PNG frames) and video grids.

Input frames are stored-video layout: uint8 ``(H, W, 3)`` RGB; whole videos uint8 ``(T, H, W, 3)``.

Formats, chosen from the extension (or ``format=``):

* ``.mp4 .mkv .mov .avi``: H.264 (``libx264``), ``yuv420p``, CRF 18. yuv420p needs even sides, so an
  odd height/width is **padded by replicating the last row/column** (the file is 1 px larger).
* ``.webm``: VP9 (``libvpx-vp9`` when present, else VP8 ``libvpx``), ``yuv420p``, same padding.
* ``.gif``: Pillow, loops forever, per-frame delay ``1 / fps`` rounded to centiseconds (what GIF stores),
  recorded in the GIF comment so readers can undo Pillow's merging of identical consecutive frames.
  Pillow writes a GIF in one call, so frames are buffered **palettised (1 byte/pixel)** until close.
* a folder (no extension, an existing directory, or ``format="frames"``): ``000000.png``, ...

Writes are atomic: everything goes to a temporary name in the destination folder and is moved into
place with ``os.replace`` on a clean close; on an exception the temporary output is removed.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from fractions import Fraction
from typing import Literal

import av
import numpy as np
import torch
from PIL import Image

from vidgan.core.atomic import apply_umask, remove_stale_temporaries, temp_prefix

__all__ = ["VideoWriter", "write_video", "make_grid", "write_grid"]

Format = Literal["mp4", "mkv", "mov", "avi", "webm", "gif", "frames"]
_H264 = ("mp4", "mkv", "mov", "avi")


def _format_of(path: str, format: str | None) -> str:
    if format is not None:
        if format not in ("mp4", "mkv", "mov", "avi", "webm", "gif", "frames"):
            raise ValueError(f"unknown video format {format!r}; use mp4, mkv, mov, avi, webm, gif or frames")
        return format
    ext = os.path.splitext(path.rstrip("/\\"))[1].lower().lstrip(".")
    if os.path.isdir(path) or ext == "" or path.endswith(("/", "\\")):
        return "frames"
    if ext not in ("mp4", "mkv", "mov", "avi", "webm", "gif"):
        raise ValueError(f"{path}: cannot tell the video format from '.{ext}'; pass format='mp4'|'gif'|'frames'")
    return ext


class VideoWriter:
    """Streaming, atomic video writer: ``with VideoWriter("out.mp4", fps=25) as w: w.write(frame)``.

    ``frame``: uint8 ``(H, W, 3)`` RGB (``(H, W)`` grayscale and ``(H, W, 4)`` RGBA are accepted and
    converted: gray replicated, alpha dropped). All frames must share one size.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float = 25.0,
        format: Format | None = None,
        crf: int = 18,
        gop_size: int | None = None,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.path = os.fspath(path).rstrip("/\\") or os.fspath(path)
        self.fps, self.crf, self.gop_size = float(fps), int(crf), gop_size
        self.format = _format_of(os.fspath(path), format)
        self.num_written = 0
        self._size: tuple[int, int] | None = None
        self._container = self._stream = None
        self._gif_frames: list[Image.Image] = []
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        remove_stale_temporaries(self.path)  # what a killed writer of this path left behind
        prefix = temp_prefix(self.path) + "tmp-"
        if self.format == "frames":
            self._tmp = tempfile.mkdtemp(prefix=prefix, dir=parent)
        else:
            fd, self._tmp = tempfile.mkstemp(prefix=prefix, suffix=f".{self.format}", dir=parent)
            os.close(fd)
        self._closed = False

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _check(self, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            raise TypeError(f"{self.path}: frames must be uint8 (H, W, 3), got {frame.dtype}")
        if frame.ndim == 2:
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        if frame.ndim != 3 or frame.shape[2] not in (1, 3, 4):
            raise ValueError(f"{self.path}: frames must be (H, W, 3) RGB, got shape {frame.shape}")
        if frame.shape[2] == 1:
            frame = np.repeat(frame, 3, axis=2)
        elif frame.shape[2] == 4:
            frame = frame[:, :, :3]
        if self._size is None:
            self._size = frame.shape[:2]
        elif frame.shape[:2] != self._size:
            raise ValueError(f"{self.path}: frame {self.num_written} is {frame.shape[:2]}, earlier ones {self._size}")
        return np.ascontiguousarray(frame)

    def _open_av(self, h: int, w: int) -> None:
        rate = Fraction(self.fps).limit_denominator(1001)
        self._container = av.open(self._tmp, mode="w", format="matroska" if self.format == "mkv" else None)
        if self.format == "webm":
            codec = "libvpx-vp9" if "libvpx-vp9" in av.codecs_available else "libvpx"
            options = {"crf": str(max(self.crf, 4)), "b": "0"}
        else:
            codec, options = "libx264", {"crf": str(self.crf), "preset": "medium"}
        st = self._container.add_stream(codec, rate=rate, options=options)
        st.width, st.height, st.pix_fmt = w + w % 2, h + h % 2, "yuv420p"
        if self.gop_size is not None:
            st.codec_context.gop_size = int(self.gop_size)
        self._stream = st

    def write(self, frame: np.ndarray) -> None:
        """Append one uint8 ``(H, W, 3)`` frame."""
        if self._closed:
            raise RuntimeError(f"{self.path}: writer already closed")
        frame = self._check(frame)
        h, w = frame.shape[:2]
        if self.format == "frames":
            Image.fromarray(frame).save(os.path.join(self._tmp, f"{self.num_written:06d}.png"))
        elif self.format == "gif":
            # Adaptive palette per frame; Floyd-Steinberg off keeps flat synthetic content exact.
            self._gif_frames.append(
                Image.fromarray(frame).quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            )
        else:
            if self._container is None:
                self._open_av(h, w)
            if h % 2 or w % 2:  # yuv420p needs even sides: replicate the last row / column
                frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            for packet in self._stream.encode(vf):
                self._container.mux(packet)
        self.num_written += 1

    def close(self) -> None:
        """Flush, finalise and move the output into place (atomic)."""
        if self._closed:
            return
        try:
            if self.num_written == 0:
                raise ValueError(f"{self.path}: no frames were written; refusing to create an empty video")
            if self.format == "gif":
                first, *rest = self._gif_frames
                delay = max(10, 10 * round(100.0 / self.fps))  # GIF stores centiseconds
                first.save(
                    self._tmp,
                    format="GIF",
                    save_all=True,
                    append_images=rest,
                    loop=0,
                    duration=delay,
                    comment=f"vidgan:delay_ms={delay}".encode(),  # lets readers undo Pillow's frame merging
                    disposal=1,
                    optimize=False,
                )
                self._gif_frames = []
            elif self._container is not None:
                for packet in self._stream.encode():
                    self._container.mux(packet)
                self._container.close()
                self._container = None
        except BaseException:
            self.abort()
            raise
        self._closed = True
        apply_umask(self._tmp)
        if self.format == "frames":
            for name in os.listdir(self._tmp):
                apply_umask(os.path.join(self._tmp, name))
        if self.format == "frames" and os.path.isdir(self.path):
            # os.replace cannot overwrite a non-empty folder: move the old one aside, then delete it.
            trash = tempfile.mkdtemp(prefix=f".{os.path.basename(self.path)}.old-", dir=os.path.dirname(self._tmp))
            os.replace(self.path, os.path.join(trash, "x"))
            os.replace(self._tmp, self.path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Discard everything written so far (nothing half-written remains)."""
        self._closed = True
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - we are cleaning up after another error
                pass
            self._container = None
        self._gif_frames = []
        if os.path.isdir(self._tmp):
            shutil.rmtree(self._tmp, ignore_errors=True)
        elif os.path.exists(self._tmp):
            os.remove(self._tmp)


def write_video(path: str | os.PathLike, video: np.ndarray, fps: float = 25.0, format: Format | None = None) -> None:
    """Write uint8 ``(T, H, W, 3)`` to ``path`` (format from the extension; see module doc)."""
    video = np.asarray(video)
    if video.ndim != 4:
        raise ValueError(f"{path}: expected a video (T, H, W, 3), got shape {video.shape}")
    with VideoWriter(path, fps=fps, format=format) as w:
        for frame in video:
            w.write(frame)


def _as_video_list(videos) -> list[np.ndarray]:
    if isinstance(videos, torch.Tensor):
        if videos.ndim != 5 or videos.dtype != torch.uint8:
            raise ValueError(f"expected a uint8 batch (B, C, T, H, W), got {videos.dtype} {tuple(videos.shape)}")
        return list(videos.permute(0, 2, 3, 4, 1).cpu().numpy())  # (B, T, H, W, C)
    if isinstance(videos, np.ndarray) and videos.ndim == 5:
        return list(videos)
    return [v.permute(1, 2, 3, 0).cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v) for v in videos]


def make_grid(videos, nrow: int | None = None, padding: int = 2, pad_value: int = 0) -> np.ndarray:
    """Tile ``B`` videos into one uint8 ``(T, H', W', 3)`` video.

    ``videos``: a list of uint8 ``(T, H, W, 3)`` arrays, or a uint8 batch ``(B, C, T, H, W)``.
    ``nrow`` videos per row (default ``ceil(sqrt(B))``); ``H' = rows*(H+padding)+padding``,
    ``W' = nrow*(W+padding)+padding``. Shorter videos hold their last frame.
    """
    vids = _as_video_list(videos)
    if not vids:
        raise ValueError("make_grid needs at least one video")
    shapes = {v.shape[1:] for v in vids}
    if len(shapes) != 1 or any(v.dtype != np.uint8 for v in vids):
        raise ValueError(f"make_grid needs uint8 videos of one (H, W, C); got {sorted(shapes)}")
    h, w, c = shapes.pop()
    if c == 1:
        vids, c = [np.repeat(v, 3, axis=3) for v in vids], 3
    b, t = len(vids), max(v.shape[0] for v in vids)
    ncol = nrow or math.ceil(math.sqrt(b))
    nrows = math.ceil(b / ncol)
    grid = np.full((t, nrows * (h + padding) + padding, ncol * (w + padding) + padding, c), pad_value, np.uint8)
    for k, v in enumerate(vids):
        r, q = divmod(k, ncol)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        grid[: v.shape[0], y : y + h, x : x + w] = v
        grid[v.shape[0] :, y : y + h, x : x + w] = v[-1]
    return grid


def label_header(grid: np.ndarray, labels: list[str], cell_w: int, ncol: int, padding: int = 2) -> np.ndarray:
    """Prepend a 14-pixel band naming the panels of each grid cell (cells of ``cell_w`` pixels holding
    ``len(labels)`` side-by-side panels, e.g. input | output | target)."""
    from PIL import Image, ImageDraw

    t, _, width, c = grid.shape
    band = Image.new("RGB", (width, 14), (0, 0, 0))
    draw = ImageDraw.Draw(band)
    panel = cell_w / max(len(labels), 1)
    for q in range(ncol):
        x0 = padding + q * (cell_w + padding)
        for i, text in enumerate(labels):
            tw = draw.textlength(text)
            draw.text((x0 + panel * (i + 0.5) - tw / 2, 1), text, fill=(255, 255, 255))
    head = np.broadcast_to(np.asarray(band, dtype=np.uint8)[None, :, :, :c], (t, 14, width, c))
    return np.concatenate([head, grid], axis=1)


def write_grid(
    path: str | os.PathLike,
    videos,
    fps: float = 25.0,
    nrow: int | None = None,
    padding: int = 2,
    labels: list[str] | None = None,
) -> None:
    """:func:`make_grid` then :func:`write_video`; ``labels`` names the side-by-side panels of each cell in a
    header band (conditional previews: input | output | target)."""
    grid = make_grid(videos, nrow=nrow, padding=padding)
    if labels:
        vids = _as_video_list(videos)
        ncol = nrow or math.ceil(math.sqrt(len(vids)))
        grid = label_header(grid, list(labels), vids[0].shape[2], min(ncol, len(vids)), padding)
    write_video(path, grid, fps=fps)
