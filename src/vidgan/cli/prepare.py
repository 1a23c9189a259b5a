"""``vidgan prepare``: turn a folder of videos into a training dataset.

Output layouts (both readable by ``vidgan.data``):

* ``--format frames``: ``DST/<video>/000000.png, 000001.png, ...`` (one folder per video);
* ``--format zip``: ``DST`` is one zip holding ``<video>/000000.png ...`` (StyleGAN-V layout: a zip of
  folders of frames, exactly two levels deep).

Each frame's short side is resized to ``--size`` (area filter when shrinking, cubic when enlarging),
then centre-cropped to a square (``--crop center``). ``--fps`` resamples time by nearest earlier frame
(output frame k shows source frame floor(k * src_fps / fps)). Videos are streamed frame by frame.
The output is written to a hidden temporary next to ``DST`` (``.DST.<random>.tmp``) and renamed into place
only after success; any failure (a full disk included) removes the temporary and leaves an existing
``DST`` untouched. An existing ``DST`` is refused unless ``--overwrite``. Unreadable inputs are skipped
and listed with their reasons. Exit code 0 when at least one video was converted, else 1.

``--pairs bd|bi`` (video super-resolution test pairs, frames layout only) writes ``DST/hr/<video>/...`` and
``DST/lr/<video>/...``: the HR frame (after ``--size``/``--crop``) is cropped top-left to a multiple of
``--scale`` and the LR frame is made from it with the degradation the paired training sampler applies
(``vidgan.data.degradations.degrade``, default variant: ``bd`` = 9x9 Gaussian ``--sigma`` with reflect padding,
then every ``scale``-th pixel, top-left aligned; ``bi`` = MATLAB-style antialiased bicubic), rounded to
uint8. LR pixel (i, j) of ``bd`` is centred on HR pixel (s*i, s*j), the alignment of the model's bicubic skip
(docs/vsr-alignment.md).
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator

import numpy as np
from PIL import Image

from vidgan.cli import _console as console
from vidgan.cli._common import add_common, new_parser
from vidgan.core.atomic import apply_umask, remove_stale_temporaries, temp_prefix


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "prepare",
        help="convert a folder of videos into a frame-folder or zip dataset",
        description="Convert every video under SRC (mp4/avi/mkv/webm/mov/gif files, frame folders, zips of "
        "frame folders) into a dataset at DST: one folder of numbered frames per video, or one zip of such "
        "folders (StyleGAN-V layout). Frames are resized (short side to --size) and centre-cropped; --fps "
        "resamples time. Unreadable files are skipped and reported; the output appears atomically. --pairs "
        "writes super-resolution test pairs (DST/hr/ and DST/lr/) made with the training degradation.",
        example="vidgan prepare raw_videos/ data/clips64 --size 64 --fps 25 --format zip\n"
        "  vidgan prepare vid4_hr/ data/vid4_pairs --crop none --pairs bd --scale 4",
    )
    p.add_argument("src", metavar="SRC", help="folder (or zip / single video) holding the source videos")
    p.add_argument("dst", metavar="DST", help="output folder (--format frames) or .zip file (--format zip)")
    p.add_argument("--size", type=int, default=None, help="resize the short side to S pixels (default: keep)")
    p.add_argument("--fps", type=float, default=None, help="resample to F frames per second (default: keep)")
    p.add_argument(
        "--crop",
        choices=["center", "none"],
        default="center",
        help="square centre crop after resizing (default)",
    )
    p.add_argument("--format", choices=["frames", "zip"], default="frames", help="output layout (default frames)")
    p.add_argument("--image-format", choices=["png", "jpg"], default="png", help="frame file type (default png)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality (StyleGAN-V parity: 75)")
    p.add_argument(
        "--list",
        dest="list_file",
        default=None,
        metavar="FILE",
        help="keep only the videos named in FILE: one path relative to SRC per line, first word (extra columns "
        "ignored), e.g. UCF101's trainlist01.txt for TGANv2's split-1 recipe",
    )
    p.add_argument(
        "--filter",
        choices=["area", "cubic"],
        default="area",
        help="downscaling filter: area (no aliasing, default) or cubic (TGANv2's official UCF101 script)",
    )
    p.add_argument(
        "--pairs",
        choices=["bd", "bi"],
        default=None,
        help="VSR pairs: write DST/hr/<video>/ and DST/lr/<video>/, LR made from the HR frames with the training "
        "degradation (bd: Gaussian blur --sigma, then every --scale-th pixel; bi: MATLAB-style bicubic)",
    )
    p.add_argument("--scale", type=int, default=4, help="--pairs: HR / LR factor (default 4)")
    p.add_argument("--sigma", type=float, default=None, help="--pairs bd: Gaussian sigma (default 1.5)")
    p.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_common(p, device=False)
    p.set_defaults(func=run)


def _video_name(relpath: str, taken: set[str]) -> str:
    """Flat folder name for a video: path separators -> '_', extension dropped, '#' -> '_', unique."""
    stem = re.sub(r"\.(mp4|avi|mkv|webm|mov|gif)$", "", relpath, flags=re.IGNORECASE)
    name = re.sub(r"[\\/#]", "_", stem).strip("._") or "video"
    base, k = name, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


def _filter_by_list(videos: list[str], root: str, list_file: str) -> list[str]:
    """The videos whose path relative to ``root`` is the first word of a line of ``list_file``."""
    if not os.path.isfile(list_file):
        raise FileNotFoundError(f"--list {list_file}: no such file")
    with open(list_file) as f:
        wanted = [line.split()[0].replace("\\", "/") for line in f if line.strip()]
    rel = {os.path.relpath(v, root).replace(os.sep, "/"): v for v in videos}
    missing = [w for w in wanted if w not in rel]
    if missing:
        raise FileNotFoundError(
            f"--list {list_file}: {len(missing)} listed video(s) not under the source folder, "
            f"e.g. {missing[0]!r} (paths must be relative to SRC)"
        )
    return [rel[w] for w in wanted]


def _transform(frame: np.ndarray, size: int | None, crop: str, down: str = "area") -> np.ndarray:
    from vidgan.data.transforms import crop_clip, resize_short_side

    clip = frame[None]
    if size is not None:
        clip = resize_short_side(clip, size, down)
    if crop == "center":
        s = min(clip.shape[1:3])
        clip = crop_clip(clip, s, "center")
    return np.ascontiguousarray(clip[0])


def _pair(hr: np.ndarray, kind: str, scale: int, sigma: float, path: str) -> tuple[np.ndarray, np.ndarray]:
    """uint8 HR ``(H, W, 3)`` -> (HR cropped top-left to multiples of ``scale``, uint8 LR made by ``degrade``).

    Same call as the paired training sampler (``degrade(hr01, kind, scale=, sigma=)``, default BD variant) on
    the frame in [0, 1]; the float LR is clipped and rounded to uint8."""
    import torch

    from vidgan.data.degradations import degrade
    from vidgan.io import VideoReadError

    h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
    need = 1 + int(3 * sigma) if kind == "bd" else scale  # reflect padding of the blur needs a larger frame
    if min(h, w) < max(need, scale):
        raise VideoReadError(
            f"{path}: frame {hr.shape[0]}x{hr.shape[1]} is too small for --pairs {kind} --scale {scale} "
            f"(needs at least {max(need, scale)} px per side after cropping to a multiple of the scale)"
        )
    hr = np.array(hr[:h, :w], copy=True)  # contiguous and writable (decoded frames may be read-only)
    x = torch.from_numpy(hr).permute(2, 0, 1)[None].to(torch.float32) / 255.0
    lr = degrade(x, kind, scale=scale, sigma=sigma)
    lr8 = (lr[0].clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return hr, np.ascontiguousarray(lr8)


def _resampled(frames: Iterator[np.ndarray], src_fps: float, fps: float | None) -> Iterator[np.ndarray]:
    """Nearest-earlier-frame time resampling, streaming: output k shows source floor(k * src / fps)."""
    if fps is None or abs(fps - src_fps) < 1e-9:
        yield from frames
        return
    ratio, k = src_fps / fps, 0
    for i, frame in enumerate(frames):
        while int(np.floor(k * ratio + 1e-9)) == i:
            yield frame
            k += 1


def _encode(frame: np.ndarray, image_format: str, quality: int) -> bytes:
    buf = io.BytesIO()
    if image_format == "jpg":
        Image.fromarray(frame).save(buf, format="JPEG", quality=quality)
    else:
        Image.fromarray(frame).save(buf, format="PNG")
    return buf.getvalue()


def _put(out: str | zipfile.ZipFile, name: str, blob: bytes) -> None:
    """Store one encoded frame ``name`` (``video/000000.png``) in the zip, or as a file under the folder ``out``."""
    if isinstance(out, zipfile.ZipFile):
        out.writestr(name, blob)
    else:
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(blob)


def _remove(path: str) -> None:
    """Delete a file or folder; never raises (cleanup on an error path)."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.remove(path)
    except OSError:
        pass


def _install(tmp: str, dst: str) -> None:
    """Move the finished ``tmp`` to ``dst``; an existing ``dst`` is replaced only once ``tmp`` is complete."""
    apply_umask(tmp)  # mkdtemp / mkstemp made it 0700 / 0600: give it the mode a plain mkdir / open would
    if os.path.isdir(dst) and not os.path.islink(dst):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(dst)}.", suffix=".old", dir=os.path.dirname(dst))
        os.replace(dst, os.path.join(old, "d"))  # a rename: dst is never half-deleted
        try:
            os.replace(tmp, dst)
        except BaseException:
            os.replace(os.path.join(old, "d"), dst)
            _remove(old)
            raise
        _remove(old)
    else:
        os.replace(tmp, dst)  # atomic, also over an existing file


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from vidgan.io import VideoReader, VideoReadError, list_videos

    src, dst = os.fspath(args.src), os.fspath(args.dst).rstrip("/\\")
    if args.size is not None and args.size < 1:
        raise ValueError(f"--size: must be >= 1, got {args.size} — pass a positive pixel count")
    if args.fps is not None and not args.fps > 0:
        raise ValueError(f"--fps: must be > 0, got {args.fps} — pass a positive frame rate")
    pairs = getattr(args, "pairs", None)
    scale, sigma = getattr(args, "scale", 4), getattr(args, "sigma", None)
    if pairs is None and sigma is not None:
        raise ValueError("--sigma: only used with --pairs bd — add --pairs bd or drop --sigma")
    if pairs is not None:
        if args.format == "zip":
            raise ValueError("--format zip: --pairs writes frame folders (DST/hr/, DST/lr/) — drop --format zip")
        if scale < 2:
            raise ValueError(f"--scale: must be >= 2, got {scale} — pass the super-resolution factor, e.g. 4")
        if pairs == "bi" and sigma is not None:
            raise ValueError("--sigma: the bi degradation has no blur sigma — drop --sigma or use --pairs bd")
        if sigma is not None and not sigma > 0:
            raise ValueError(f"--sigma: must be > 0, got {sigma} — TecoGAN's BD uses 1.5")
    sigma = 1.5 if sigma is None else sigma
    if os.path.lexists(dst) and not args.overwrite:
        raise FileExistsError(f"{dst}: already exists — pass --overwrite or another path")
    videos = list_videos(src)
    if not videos:
        print(
            f"error: {src}: no videos found — check the path (mp4/avi/mkv/webm/mov/gif, frame folders, zips)",
            file=sys.stderr,
        )
        return 1
    root = src if os.path.isdir(src) else os.path.dirname(src)
    if args.list_file is not None:
        videos = _filter_by_list(videos, root, args.list_file)
    parent = os.path.dirname(os.path.abspath(dst))
    os.makedirs(parent, exist_ok=True)
    # the temporary lives next to DST (same file system: the final rename is atomic) under a unique hidden name
    remove_stale_temporaries(dst)  # what a killed `vidgan prepare` left beside DST
    prefix, suffix = temp_prefix(dst), ".tmp"
    tmp, zf = "", None
    skipped: list[tuple[str, str]] = []
    done, taken = 0, set()
    ext = args.image_format
    try:
        if args.format == "zip":
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=parent)
            os.close(fd)
            zf = zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED)
        else:
            tmp = tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent)
            if pairs is not None:
                for side in ("hr", "lr"):
                    os.makedirs(os.path.join(tmp, side))
        console.detail(f"{len(videos)} video(s) under {src}:\n" + "\n".join(f"  {v}" for v in videos))
        t0 = time.perf_counter()
        for path in tqdm(videos, desc="prepare", unit="video", disable=not console.show_progress(args)):
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            name = _video_name(rel, taken)
            try:
                reader = VideoReader(path)
                frames = _resampled(reader.iter_frames(), reader.fps, args.fps)
                if zf is not None:
                    # Buffer the encoded frames of one video so a video that fails half-way leaves no
                    # members behind (a zip cannot drop entries).
                    blobs = [
                        _encode(_transform(f, args.size, args.crop, args.filter), ext, args.quality) for f in frames
                    ]
                    if not blobs:
                        raise VideoReadError(f"{path}: zero frames after resampling to {args.fps} fps")
                    for k, blob in enumerate(blobs):
                        _put(zf, f"{name}/{k:06d}.{ext}", blob)
                elif pairs is not None:
                    parts = [os.path.join(tmp, side, f".{name}.partial") for side in ("hr", "lr")]
                    for d in parts:
                        os.makedirs(d)
                    try:
                        n = 0
                        for n, f in enumerate(frames, 1):
                            hr, lr = _pair(_transform(f, args.size, args.crop, args.filter), pairs, scale, sigma, path)
                            for d, img in zip(parts, (hr, lr)):
                                with open(os.path.join(d, f"{n - 1:06d}.{ext}"), "wb") as fh:
                                    fh.write(_encode(img, ext, args.quality))
                        if n == 0:
                            raise VideoReadError(f"{path}: zero frames after resampling to {args.fps} fps")
                    except BaseException:
                        for d in parts:
                            _remove(d)
                        raise
                    for side, d in zip(("hr", "lr"), parts):
                        os.replace(d, os.path.join(tmp, side, name))
                else:
                    part = f".{name}.partial"
                    os.makedirs(os.path.join(tmp, part))
                    try:
                        n = 0
                        for n, f in enumerate(frames, 1):
                            blob = _encode(_transform(f, args.size, args.crop, args.filter), ext, args.quality)
                            _put(tmp, f"{part}/{n - 1:06d}.{ext}", blob)
                        if n == 0:
                            raise VideoReadError(f"{path}: zero frames after resampling to {args.fps} fps")
                    except BaseException:
                        _remove(os.path.join(tmp, part))
                        raise
                    os.replace(os.path.join(tmp, part), os.path.join(tmp, name))
                done += 1
            except VideoReadError as e:
                taken.discard(name)
                skipped.append((rel, str(e)))
        if zf is not None:
            zf.close()
            zf = None
        if skipped:
            print(f"skipped {len(skipped)} of {len(videos)} video(s):", file=sys.stderr)
            for rel, why in skipped:
                print(f"  {rel}: {why}", file=sys.stderr)
        if done == 0:
            _remove(tmp)
            print(
                f"error: {src}: none of the {len(videos)} video(s) could be converted — see the reasons above",
                file=sys.stderr,
            )
            return 1
        _install(tmp, dst)
    except BaseException as e:
        if zf is not None:
            try:
                zf.close()  # may itself fail on a full disk; the temporary goes either way
            except Exception:
                pass
        if tmp:
            _remove(tmp)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT) and not e.filename:
            raise OSError(e.errno, e.strerror or os.strerror(e.errno), dst) from e  # name what was being written
        raise
    what = args.format if pairs is None else f"hr/ + lr/, x{scale} {pairs}"
    console.info(f"wrote {done} video(s) to {dst} ({what})")
    console.detail(f"time: {time.perf_counter() - t0:.2f} s")
    return 0
