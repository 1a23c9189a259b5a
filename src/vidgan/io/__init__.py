"""vidgan.io: video decoding/encoding (PyAV, Pillow, frame folders, zips) and video grids."""

from vidgan.io.video_io import (
    IMAGE_EXTS,
    VIDEO_EXTS,
    VideoReader,
    VideoReadError,
    list_videos,
    natural_key,
    read_video,
    split_zip_path,
)
from vidgan.io.writer import VideoWriter, make_grid, write_grid, write_video

__all__ = [
    "IMAGE_EXTS",
    "VIDEO_EXTS",
    "VideoReadError",
    "VideoReader",
    "VideoWriter",
    "list_videos",
    "make_grid",
    "natural_key",
    "read_video",
    "split_zip_path",
    "write_grid",
    "write_video",
]
