"""vidgan.data: datasets (folders, zips, videos, embedded synthetic sets), samplers and transforms.

Entry point: ``build_dataset(DataConfig(...), split, seed)``; examples are ``dataset[(index, seed)]``.
"""

from vidgan.data.config import DataConfig
from vidgan.data.datasets import (
    SAMPLERS,
    ExampleSampler,
    VideoDataset,
    VideoSource,
    build_dataset,
    get_sampler,
    in_val_split,
    required_length,
)
from vidgan.data.samplers import (
    contiguous_start,
    draw_offsets,
    multilevel_clip,
    multilevel_frames,
    random_times,
    ucf101_crop,
    ucf101_draw,
)
from vidgan.data.synthetic import SYNTHETIC_NAMES, SyntheticVideos, parse_synthetic_source

__all__ = [
    "SAMPLERS",
    "SYNTHETIC_NAMES",
    "ExampleSampler",
    "get_sampler",
    "DataConfig",
    "SyntheticVideos",
    "VideoDataset",
    "VideoSource",
    "build_dataset",
    "contiguous_start",
    "draw_offsets",
    "in_val_split",
    "multilevel_clip",
    "multilevel_frames",
    "parse_synthetic_source",
    "random_times",
    "required_length",
    "ucf101_crop",
    "ucf101_draw",
]
