"""Map-style video datasets with a deterministic sampling contract.

``dataset[(index, seed)]`` returns one example built from video ``index``; **every** random choice
(window, start frame, frame times, crop offset, flip, multilevel offsets) comes from
``numpy.random.default_rng(seed)``, so an example is a pure function of ``(index, seed)`` and a
resumed run sees exactly the same data. ``dataset[index]`` uses ``seed = index``. Callers should give
each example its own seed (the engine derives it from the run seed and the sample number).

Draw order: [random_t: window, times | other samplers: start], then crop (y0, x0), flip, then
(multilevel) offsets. Examples are dicts of tensors without batch dim (the default collate batches):

* ``clips``:      ``video`` uint8 ``(C, T, H, W)``
* ``multilevel``: ``video`` + ``levels`` (L + 1 float32 tensors, TGANv2 scale (u8 - 128) / 128)
  + ``offsets`` int64 ``(L,)``
* ``random_t``:   ``video`` uint8 ``(C, F, H, W)`` + ``times`` int64 ``(F,)`` (relative to the window)
* ``paired``:     ``lr`` float32 ``(C, T, H/s, W/s)`` and ``hr`` float32 ``(C, T, H, W)``, both in [-1, 1]
* ``translation``: ``source`` and ``target`` uint8 ``(C, T, H, W)``. ``pairing="paired"``: the target video
  with the same relative name (same index for embedded sets), the same frame indices, crop and flip;
  ``"unpaired"``: a target video, start, crop and flip drawn independently (after the source's draws).

Bad files met mid-run (a decode error the start-up scan could not see): with ``data.strict=false`` the
example is built from another video instead, the first of ``(s + k) mod N`` (``k = 0, 1, ...``; ``s`` drawn
from ``default_rng((seed, index))``) that decodes, with the example's own ``seed``; so it is still a pure
function of ``(index, seed)`` and a resumed run sees the same data. The bad video is remembered (never
retried by this dataset object or DataLoader worker) and one warning names it. ``data.strict=true``:
the :class:`~vidgan.io.VideoReadError` naming the file propagates.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from vidgan.data.config import DataConfig
from vidgan.data.hdf5 import hdf5_videos, is_hdf5, list_video_paths, open_video
from vidgan.data.index import VideoInfo, scan_videos
from vidgan.data.samplers import (
    contiguous_start,
    draw_offsets,
    multilevel_clip,
    random_times,
    random_times_min_length,
)
from vidgan.data.synthetic import SYNTHETIC_NAMES, SyntheticVideos, is_synthetic
from vidgan.data.transforms import apply_clip_transforms
from vidgan.io import VideoReader, VideoReadError, split_zip_path

__all__ = [
    "VideoDataset",
    "VideoSource",
    "ExampleSampler",
    "SAMPLERS",
    "get_sampler",
    "build_dataset",
    "in_val_split",
    "required_length",
]

MAX_NUM_FRAMES = 1024  # StyleGAN-V max_num_frames: random_t samples inside a random 1024-frame window
Split = Literal["train", "val", "all"]


def required_length(cfg: DataConfig, samplers: Mapping[str, ExampleSampler] | None = None) -> int:
    """Fewest frames a video needs for one example of ``cfg.sampler``."""
    return get_sampler(cfg.sampler, samplers).min_length(cfg)


def _contiguous_length(cfg: DataConfig) -> int:
    return (cfg.frames - 1) * cfg.stride + 1


@dataclass(frozen=True)
class ExampleSampler:
    """How one training example is cut from dataset video ``index`` (the ``data.sampler`` choices).

    example:    ``(dataset, index, rng) -> dict of tensors``; every random choice comes from ``rng``.
    min_length: fewest frames a video needs.
    check:      validates the data config for this sampler (raise ``ValueError`` naming the fields).
    """

    name: str
    example: Callable[[VideoDataset, int, np.random.Generator], dict[str, torch.Tensor]]
    min_length: Callable[[DataConfig], int] = _contiguous_length
    check: Callable[[DataConfig], None] | None = None


def times_sampler(name: str, draw_times: Callable[..., np.ndarray]) -> ExampleSampler:
    """A ``random_t``-like sampler from a frame-time function ``(rng, length, frames, max_dist) -> int64 (F,)``
    (a family's ``SAMPLERS`` entry, e.g. StyleGAN-V's fixed ``uniform``): ``video`` + ``times`` examples."""

    def example(ds: VideoDataset, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        n = ds._num_frames(index)
        length = min(n, MAX_NUM_FRAMES)
        w0 = int(rng.integers(0, n - length + 1)) if n > length else 0
        times = np.asarray(draw_times(rng, length, ds.cfg.frames, ds.cfg.max_dist), dtype=np.int64)
        return {"video": ds.clip(index, w0 + times, rng), "times": torch.from_numpy(times)}

    return ExampleSampler(name, example, min_length=lambda cfg: cfg.frames)


def get_sampler(name: str, extra: Mapping[str, Any] | None = None) -> ExampleSampler:
    """``data.sampler`` -> the sampler: a built-in one or a family's (``SAMPLERS``: an object with
    ``example(dataset, index, rng)`` [+ ``min_length(cfg)``, ``check(cfg)``], or a frame-time function)."""
    table = {**SAMPLERS, **(extra or {})}
    if name not in table:
        close = difflib.get_close_matches(name, list(table), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"data.sampler: unknown sampler {name!r}{hint} (available: {', '.join(sorted(table))})")
    got = table[name]
    if isinstance(got, ExampleSampler):
        return got
    if hasattr(got, "example"):
        return ExampleSampler(
            name, got.example, getattr(got, "min_length", None) or _contiguous_length, getattr(got, "check", None)
        )
    if callable(got):
        return times_sampler(name, got)
    raise ValueError(f"data.sampler: {name!r} is neither a sampler object nor a frame-time function")


def in_val_split(relpath: str, val_fraction: float) -> bool:
    """Deterministic split of folder datasets: sha1 of the relative path mapped to [0, 1) < fraction."""
    h = int.from_bytes(hashlib.sha1(relpath.encode()).digest()[:8], "big") / 2.0**64
    return h < val_fraction


def _check_cfg(cfg: DataConfig, sampler: ExampleSampler) -> None:
    if cfg.frames < 1 or cfg.size < 1 or cfg.stride < 1:
        raise ValueError(
            f"data.frames, data.size and data.stride must be >= 1 (got {cfg.frames}, {cfg.size}, {cfg.stride})"
        )
    if not 0.0 <= cfg.val_fraction < 1.0:
        raise ValueError(f"data.val_fraction must be in [0, 1), got {cfg.val_fraction}")
    if sampler.check is not None:
        sampler.check(cfg)


def _check_multilevel(cfg: DataConfig) -> None:
    k = math.prod(cfg.subsample_frame)
    s = 2 ** len(cfg.subsample_frame)
    if cfg.frames % k or cfg.size % s:
        raise ValueError(
            f"data.frames={cfg.frames} must be divisible by prod(data.subsample_frame)={k} (every level keeps "
            f"frames / prod(factors[:l]) frames) and data.size={cfg.size} by 2 ** levels = {s}"
        )


def _check_translation(cfg: DataConfig) -> None:
    if not cfg.target:
        raise ValueError("data.sampler=translation needs data.target (the target-domain folder or dataset name)")


def _check_paired(cfg: DataConfig) -> None:
    if cfg.size % cfg.scale:
        raise ValueError(f"data.size={cfg.size} must be divisible by data.scale={cfg.scale}")


class VideoDataset(Dataset):
    """Examples from a folder/zip/video source or an embedded synthetic dataset (see module doc)."""

    def __init__(
        self,
        cfg: DataConfig,
        split: Split = "train",
        seed: int = 0,
        samplers: Mapping[str, ExampleSampler] | None = None,
    ) -> None:
        self.sampler = get_sampler(cfg.sampler, samplers)
        _check_cfg(cfg, self.sampler)
        if split not in ("train", "val", "all"):
            raise ValueError(f"split must be 'train', 'val' or 'all', got {split!r}")
        self.cfg, self.split = cfg, split
        self.synthetic: SyntheticVideos | None = None
        self.videos: list[VideoInfo] = []
        self.skipped_short = 0
        self.bad: list[tuple[str, str]] = []
        need = self.sampler.min_length(cfg)
        if is_synthetic(cfg.source):
            self.synthetic = SyntheticVideos.from_source(
                cfg.source, num_videos=cfg.num_videos, video_frames=cfg.video_frames, size=cfg.size, seed=seed
            )
            if self.synthetic.video_frames < need:
                raise ValueError(
                    f"{cfg.source}: videos have {self.synthetic.video_frames} frames but sampler "
                    f"{cfg.sampler!r} needs {need}; raise video_frames (e.g. '{cfg.source.split(':')[0]}:"
                    f"video_frames={need}') or lower data.frames"
                )
            # every m-th synthetic video is validation (m = round(1 / val_fraction))
            m = round(1 / cfg.val_fraction) if cfg.val_fraction > 0 else 0
            ids = range(len(self.synthetic))
            is_val = [bool(m) and i % m == m - 1 for i in ids]
            self._ids = [i for i in ids if split == "all" or is_val[i] == (split == "val")]
        else:
            zp = split_zip_path(cfg.source)
            if not os.path.exists(cfg.source) and not (zp and os.path.isfile(zp[0])):
                raise FileNotFoundError(
                    f"data.source {cfg.source!r} is neither an existing path nor an embedded dataset "
                    f"({', '.join(SYNTHETIC_NAMES)})"
                )
            if is_hdf5(cfg.source):  # TGANv2's official .h5 + .json (validated on open; no index needed)
                good, self.bad = hdf5_videos(cfg.source), []
            else:
                good, self.bad = scan_videos(cfg.source)
            if self.bad and cfg.strict:
                rel, why = self.bad[0]
                raise VideoReadError(f"{len(self.bad)} unreadable video(s) under {cfg.source}; first: {why}")
            for v in good:
                if split != "all" and in_val_split(v.relpath, cfg.val_fraction) != (split == "val"):
                    continue
                if v.num_frames < need:
                    self.skipped_short += 1
                else:
                    self.videos.append(v)
            self._ids = list(range(len(self.videos)))
            if self.bad or self.skipped_short:
                reasons = "; ".join(why for _, why in self.bad[:3]) + (" ..." if len(self.bad) > 3 else "")
                warnings.warn(
                    f"{cfg.source} ({split}): using {len(self.videos)} videos; "
                    f"skipped {len(self.bad)} unreadable"
                    + (f" ({reasons})" if self.bad else "")
                    + f" and {self.skipped_short} shorter than {need} frames",
                    stacklevel=3,
                )
        if not self._ids:
            raise ValueError(
                f"{cfg.source}: no usable videos for split {split!r} (need >= {need} frames each; "
                f"{len(self.bad)} unreadable, {self.skipped_short} too short)"
            )
        self._readers: OrderedDict[str, VideoReader] = OrderedDict()
        self.failed: dict[int, str] = {}  # dataset index -> why it failed mid-run (skipped from then on)
        self.target: VideoDataset | None = None
        if cfg.sampler == "translation":
            target_cfg = replace(cfg, source=cfg.target, sampler="clips", target="", source_interp="area")
            self.target = VideoDataset(target_cfg, split, seed)
            if cfg.pairing == "paired":
                self._pair = self._pair_targets()

    def _pair_targets(self) -> list[int]:
        """Target index of each source example (same relative name / same synthetic index)."""
        assert self.target is not None
        if self.synthetic is not None and self.target.synthetic is not None:
            where = {vid: j for j, vid in enumerate(self.target._ids)}
            keys = list(self._ids)
        else:
            where = {v.relpath: j for j, v in enumerate(self.target.videos)}
            keys = [v.relpath for v in self.videos]
        missing = [k for k in keys if k not in where]
        if missing:
            raise ValueError(
                f"data.target {self.cfg.target!r} has no counterpart for {len(missing)} source "
                f"video(s), e.g. {missing[0]!r}; paired translation needs the same relative names "
                "(or use data.pairing=unpaired)"
            )
        return [where[k] for k in keys]

    def __len__(self) -> int:
        return len(self._ids)

    # --------------------------------------------------------------------------------- reading
    def _num_frames(self, i: int) -> int:
        if self.synthetic is not None:
            return self.synthetic.video_frames
        return self.videos[i].num_frames

    def _reader(self, path: str) -> VideoReader:
        r = self._readers.pop(path, None)
        if r is None:
            try:
                r = open_video(path)
            except OSError as e:  # e.g. the file vanished or lost its permissions after the scan
                raise VideoReadError(f"{path}: cannot open ({e.strerror or e}) — check the file") from e
        self._readers[path] = r  # small LRU: readers keep their seek tables (no open handles)
        while len(self._readers) > 16:
            self._readers.popitem(last=False)
        return r

    def _frames(self, i: int, idx: np.ndarray) -> np.ndarray:
        """uint8 ``(len(idx), H, W, 3)`` frames of dataset video ``i``."""
        if self.synthetic is not None:
            return self.synthetic.video(self._ids[i], idx)
        return self._reader(self.videos[i].path).read_frames(idx.tolist())

    def describe(self, i: int) -> str:
        """Human-readable name of example ``i``'s video (for error messages and logs)."""
        if self.synthetic is not None:
            return f"{self.synthetic.name}[{self._ids[i]}]"
        return self.videos[i].path

    # --------------------------------------------------------------------------------- examples
    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, seed = key if isinstance(key, tuple) else (key, key)
        index, seed = int(index), int(seed)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range [0, {len(self)})")
        if self.synthetic is not None:
            return self.sampler.example(self, index, np.random.default_rng(seed))
        try:
            return self._example(index, seed)
        except VideoReadError as e:
            if self.cfg.strict:
                raise
            first_error = e
        n = len(self)
        start = int(np.random.default_rng((seed, index)).integers(n))
        for k in range(n):  # deterministic substitute: a pure function of (index, seed) and the files
            j = (start + k) % n
            if j == index or j in self.failed:
                continue
            try:
                return self._example(j, seed)
            except VideoReadError:
                continue
        raise VideoReadError(
            f"{self.cfg.source}: no video of the {self.split} split decodes ({len(self.failed)} failed mid-run; "
            f"first: {first_error}) — check the dataset"
        )

    def _example(self, index: int, seed: int) -> dict[str, torch.Tensor]:
        """The example of video ``index``; a decode failure marks the video failed (warned once) and re-raises."""
        if index in self.failed:
            raise VideoReadError(self.failed[index])
        try:
            return self.sampler.example(self, index, np.random.default_rng(seed))
        except VideoReadError as e:
            if not self.cfg.strict:
                self.failed[index] = str(e)
                self._readers.pop(self.videos[index].path, None)
                warnings.warn(
                    f"{e} [data.strict=false: {self.videos[index].path} is skipped from now on; its examples "
                    "come from another video]",
                    stacklevel=3,
                )
            raise

    def clip(self, index: int, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """Frames ``idx`` of video ``index``, resized/cropped/flipped (draws from ``rng``) -> uint8 (C, T, H, W)."""
        cfg = self.cfg
        clip = apply_clip_transforms(
            self._frames(index, idx), cfg.size, cfg.resize, cfg.crop, cfg.hflip, rng, interp=cfg.source_interp
        )
        return torch.from_numpy(clip).permute(3, 0, 1, 2).contiguous()  # (T,H,W,C) -> (C,T,H,W)

    def contiguous_indices(self, index: int, rng: np.random.Generator) -> np.ndarray:
        start = contiguous_start(rng, self._num_frames(index), self.cfg.frames, self.cfg.stride)
        return start + self.cfg.stride * np.arange(self.cfg.frames)

    def _target_clip(
        self, index: int, idx: np.ndarray, transform_state: dict, rng: np.random.Generator
    ) -> torch.Tensor:
        """uint8 ``(C, T, H, W)`` target-domain clip for source example ``index`` (see module doc)."""
        assert self.target is not None
        if self.cfg.pairing == "unpaired":
            j = int(rng.integers(len(self.target)))
            return self.target[(j, int(rng.integers(2**62)))]["video"]
        j = self._pair[index]
        n = self.target._num_frames(j)
        if int(idx[-1]) >= n:
            raise ValueError(
                f"{self.target.describe(j)} has {n} frames, fewer than its source "
                f"{self.describe(index)}; paired videos must have the same length"
            )
        t_rng = np.random.default_rng()
        t_rng.bit_generator.state = transform_state
        clip = apply_clip_transforms(
            self.target._frames(j, idx), self.cfg.size, self.cfg.resize, self.cfg.crop, self.cfg.hflip, t_rng
        )
        return torch.from_numpy(clip).permute(3, 0, 1, 2).contiguous()

    def _paired(self, video: torch.Tensor) -> dict[str, torch.Tensor]:
        """uint8 ``(C, T, H, W)`` -> ``lr``/``hr`` float32 in [-1, 1] via ``degrade`` on [0, 1] frames."""
        from vidgan.data.degradations import degrade  # owned by the TecoGAN helper; imported lazily

        cfg = self.cfg
        hr01 = video.permute(1, 0, 2, 3).to(torch.float32) / 255.0  # (T, C, H, W) in [0, 1]
        lr01 = degrade(hr01, cfg.degradation, scale=cfg.scale, sigma=cfg.sigma)  # (T, C, H/s, W/s)
        return {
            "lr": (lr01.permute(1, 0, 2, 3) * 2.0 - 1.0).contiguous(),
            "hr": (hr01.permute(1, 0, 2, 3) * 2.0 - 1.0).contiguous(),
        }


# ------------------------------------------------------------------------------------ the samplers
def _clips(ds: VideoDataset, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    return {"video": ds.clip(index, ds.contiguous_indices(index, rng), rng)}


def _multilevel(ds: VideoDataset, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    video = ds.clip(index, ds.contiguous_indices(index, rng), rng)
    offsets = draw_offsets(rng, ds.cfg.subsample_frame)
    levels = tuple(multilevel_clip(video, ds.cfg.subsample_frame, offsets))
    return {"video": video, "levels": levels, "offsets": torch.from_numpy(offsets)}


def _random_t(ds: VideoDataset, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    n = ds._num_frames(index)
    length = min(n, MAX_NUM_FRAMES)
    w0 = int(rng.integers(0, n - length + 1)) if n > length else 0
    times = random_times(rng, length, ds.cfg.frames, ds.cfg.max_dist)
    return {"video": ds.clip(index, w0 + times, rng), "times": torch.from_numpy(times)}


def _paired(ds: VideoDataset, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    return ds._paired(ds.clip(index, ds.contiguous_indices(index, rng), rng))


def _translation(ds: VideoDataset, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    idx = ds.contiguous_indices(index, rng)
    transform_state = rng.bit_generator.state  # paired translation repeats the crop/flip draws
    video = ds.clip(index, idx, rng)
    return {"source": video, "target": ds._target_clip(index, idx, transform_state, rng)}


SAMPLERS: dict[str, ExampleSampler] = {
    "clips": ExampleSampler("clips", _clips),
    "multilevel": ExampleSampler("multilevel", _multilevel, check=_check_multilevel),
    "random_t": ExampleSampler(
        "random_t", _random_t, min_length=lambda cfg: random_times_min_length(cfg.frames, cfg.max_dist)
    ),
    "paired": ExampleSampler("paired", _paired, check=_check_paired),
    "translation": ExampleSampler("translation", _translation, check=_check_translation),
}


def build_dataset(
    cfg: DataConfig, split: Split = "train", seed: int = 0, samplers: Mapping[str, ExampleSampler] | None = None
) -> VideoDataset:
    """The dataset described by ``cfg`` (``seed`` fixes the content of embedded synthetic sets only).

    Folder sources are scanned once (cached index, see :mod:`vidgan.data.index`); unreadable files
    raise when ``cfg.strict`` else are skipped with one warning summary; videos shorter than the
    sampler needs are skipped and counted.
    """
    return VideoDataset(cfg, split=split, seed=seed, samplers=samplers)


class VideoSource:
    """Whole videos from a path or an embedded dataset name, for evaluation and export.

    ``source[i]`` is video ``i`` as uint8 ``(T, H, W, 3)`` (synthetic sets: ``size x size``; files: as
    stored); ``source.names[i]`` names it. Paths are listed with :func:`vidgan.io.list_videos`;
    unreadable files raise :class:`~vidgan.io.VideoReadError` when read.
    """

    def __init__(
        self, source: str, *, size: int = 64, num_videos: int = 256, video_frames: int = 32, seed: int = 0
    ) -> None:
        self.source = source
        self._synthetic: SyntheticVideos | None = None
        if is_synthetic(source):
            self._synthetic = SyntheticVideos.from_source(
                source, num_videos=num_videos, video_frames=video_frames, size=size, seed=seed
            )
            self.names = [f"{self._synthetic.name}[{i}]" for i in range(len(self._synthetic))]
        else:
            self._paths = list_video_paths(source)
            self.names = list(self._paths)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> np.ndarray:
        if not 0 <= i < len(self):
            raise IndexError(f"{self.source}: video {i} out of range [0, {len(self)})")
        if self._synthetic is not None:
            return self._synthetic.video(i)
        return open_video(self._paths[i]).read()
