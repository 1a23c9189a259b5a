"""Streaming conditional inference (``vidgan upscale``, ``vidgan translate``) for any family, through the
contract: frames are read one at a time, pushed through the family's :class:`~vidgan.families.api.Stream`
and written one at a time, so memory is constant in the video length. fps and frame count are kept; the
output file appears only when complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from vidgan.families.api import StreamOptions
from vidgan.sampling.inference import load_model

__all__ = ["StreamResult", "stream_video"]


@dataclass
class StreamResult:
    frames: int
    width: int
    height: int
    fps: float
    output: Path


def stream_video(
    checkpoint: str | Path,
    input: str | Path,
    output: str | Path,
    *,
    task: str,
    options: StreamOptions | None = None,
    device: torch.device | str = "cpu",
    fps: float = 0.0,
    progress: bool = True,
) -> StreamResult:
    """Run the ``task`` model of ``checkpoint`` over video ``input`` (file or frame folder) into ``output``
    (video file, or a folder of PNG frames)."""
    from tqdm import tqdm

    from vidgan.io import VideoReader, VideoWriter

    got = load_model(checkpoint, device, use="stream", task=task)
    stream = got.parts.stream(got.modules, options or StreamOptions())
    reader = VideoReader(input)
    fps = fps or reader.fps
    n, size = 0, (0, 0)
    with VideoWriter(output, fps=fps) as writer:
        bar = tqdm(total=reader.num_frames, unit="frame", desc=task, disable=not progress)
        for frame in stream(reader.iter_frames()):
            writer.write(frame)
            size = frame.shape[:2]
            n += 1
            bar.update(1)
        bar.close()
    return StreamResult(n, int(size[1]), int(size[0]), float(fps), Path(output))
