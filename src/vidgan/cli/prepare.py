"""``vidgan prepare``: turn a folder of videos into a training dataset.

Output layouts (both readable by ``vidgan.data``):

* ``--format frames``: ``DST/<video>/000000.png, 000001.png, ...`` (one folder per video);
* ``--format zip``: ``DST`` is one zip holding ``<video>/000000.png ...`` (StyleGAN-V layout: a zip of
  folders of frames, exactly two levels deep).

Each frame's short side is resized to ``--size`` (area filter when shrinking, cubic when enlarging),
then centre-cropped to a square (``--crop center``). ``--fps`` resamples time by nearest earlier frame
(output frame k shows source frame floor(k * src_fps / fps)). Videos are streamed frame by frame.
The output is written to ``DST.tmp`` and renamed into place only at the end; unreadable inputs are
skipped and listed with their reasons. Exit code 0 when at least one video was converted, else 1.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Iterator

import numpy as np
from PIL import Image

from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "prepare",
        help="convert a folder of videos into a frame-folder or zip dataset",
        description="Convert every video under SRC (mp4/avi/mkv/webm/mov/gif files, frame folders, zips of "
        "frame folders) into a dataset at DST: one folder of numbered frames per video, or one zip of such "
        "folders (StyleGAN-V layout). Frames are resized (short side to --size) and centre-cropped; --fps "
        "resamples time. Unreadable files are skipped and reported; the output appears atomically.",
        example="vidgan prepare raw_videos/ data/clips64 --size 64 --fps 25 --format zip",
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


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from vidgan.io import VideoReader, VideoReadError, list_videos

    src, dst = os.fspath(args.src), os.fspath(args.dst).rstrip("/\\")
    if args.size is not None and args.size < 1:
        raise ValueError(f"--size must be >= 1, got {args.size}")
    if args.fps is not None and not args.fps > 0:
        raise ValueError(f"--fps must be > 0, got {args.fps}")
    if os.path.exists(dst) and not args.overwrite:
        raise FileExistsError(f"{dst} exists; pass --overwrite to replace it")
    videos = list_videos(src)
    if not videos:
        print(f"error: no videos found under {src}", file=sys.stderr)
        return 1
    root = src if os.path.isdir(src) else os.path.dirname(src)
    if args.list_file is not None:
        videos = _filter_by_list(videos, root, args.list_file)
    tmp = dst + ".tmp"
    if os.path.isdir(tmp):
        shutil.rmtree(tmp)
    elif os.path.exists(tmp):
        os.remove(tmp)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    zf = zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) if args.format == "zip" else None
    if zf is None:
        os.makedirs(tmp)
    skipped: list[tuple[str, str]] = []
    done, taken = 0, set()
    ext = args.image_format
    try:
        for path in tqdm(videos, desc="prepare", unit="video", disable=args.no_progress):
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
                        zf.writestr(f"{name}/{k:06d}.{ext}", blob)
                else:
                    part = os.path.join(tmp, f".{name}.partial")
                    os.makedirs(part)
                    try:
                        n = 0
                        for n, f in enumerate(frames, 1):
                            with open(os.path.join(part, f"{n - 1:06d}.{ext}"), "wb") as fh:
                                fh.write(_encode(_transform(f, args.size, args.crop, args.filter), ext, args.quality))
                        if n == 0:
                            raise VideoReadError(f"{path}: zero frames after resampling to {args.fps} fps")
                    except BaseException:
                        shutil.rmtree(part, ignore_errors=True)
                        raise
                    os.replace(part, os.path.join(tmp, name))
                done += 1
            except VideoReadError as e:
                taken.discard(name)
                skipped.append((rel, str(e)))
        if zf is not None:
            zf.close()
    except BaseException:
        if zf is not None:
            zf.close()
        shutil.rmtree(tmp, ignore_errors=True) if os.path.isdir(tmp) else os.remove(tmp)
        raise
    if skipped:
        print(f"skipped {len(skipped)} of {len(videos)} video(s):", file=sys.stderr)
        for rel, why in skipped:
            print(f"  {rel}: {why}", file=sys.stderr)
    if done == 0:
        shutil.rmtree(tmp, ignore_errors=True) if os.path.isdir(tmp) else os.remove(tmp)
        print(f"error: none of the {len(videos)} video(s) under {src} could be converted", file=sys.stderr)
        return 1
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    elif os.path.exists(dst):
        os.remove(dst)
    os.replace(tmp, dst)
    print(f"wrote {done} video(s) to {dst} ({args.format})")
    return 0
