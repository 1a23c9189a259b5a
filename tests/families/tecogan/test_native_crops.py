"""VSR training crops HR frames at their own resolution (official random crops), never resized first."""

from __future__ import annotations

import numpy as np
from PIL import Image

from vidgan.engine.config import resolve_run_config
from vidgan.engine.trainer import run_dataset


def test_hr_crop_is_a_window_of_the_original_frames(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(4, 40, 56, 3), dtype=np.uint8)
    video = tmp_path / "clip"
    video.mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(video / f"{i:04d}.png")
    cfg = resolve_run_config("tecogan:tiny", [f"data.source={tmp_path}", "data.val_fraction=0", "data.hflip=false"])
    assert cfg.data.resize == "none"
    ex = run_dataset(cfg)[(0, 0)]
    hr = ((ex["hr"].permute(1, 2, 3, 0).numpy() + 1) * 127.5).round().astype(np.uint8)  # (T, 32, 32, 3)
    t, s = hr.shape[0], hr.shape[1]
    hits = [
        (t0, y, x)
        for t0 in range(frames.shape[0] - t + 1)
        for y in range(frames.shape[1] - s + 1)
        for x in range(frames.shape[2] - s + 1)
        if np.array_equal(frames[t0 : t0 + t, y : y + s, x : x + s], hr)
    ]
    assert len(hits) == 1, "the HR clip is not an unresized window of the source frames"
