"""vidgan.io: video decoding/encoding (PyAV, Pillow, frame folders, zips) and video grids."""

from vidgan.io.video_io import (
    IMAGE_EXTS,
    MAX_FRAME_PIXELS,
    MAX_MEMBER_BYTES,
    MAX_ZIP_RATIO,
    VIDEO_EXTS,
    VideoReader,
    VideoReadError,
    list_videos,
    natural_key,
    read_image,
    read_video,
    split_zip_path,
)
from vidgan.io.writer import VideoWriter, make_grid, write_grid, write_video

__all__ = [
    "IMAGE_EXTS",
    "MAX_FRAME_PIXELS",
    "MAX_MEMBER_BYTES",
    "MAX_ZIP_RATIO",
    "VIDEO_EXTS",
    "VideoReadError",
    "VideoReader",
    "VideoWriter",
    "list_videos",
    "make_grid",
    "natural_key",
    "read_image",
    "read_video",
    "split_zip_path",
    "write_grid",
    "write_video",
]
