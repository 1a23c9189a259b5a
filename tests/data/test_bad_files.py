"""Bad files in a folder dataset: the start-up scan reports what it can see; what it cannot (damaged pixel data
behind intact headers) is skipped mid-run with ``data.strict=false`` by a deterministic substitute, so
training completes and a resumed run is bitwise equal to an uninterrupted one; ``data.strict=true`` raises."""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib

import av
import numpy as np
import pytest
import torch
from PIL import Image

from vidgan.data import DataConfig, build_dataset
from vidgan.engine import checkpoint as ckpt_io
from vidgan.engine.config import resolve_run_config
from vidgan.engine.trainer import run_dataset, train
from vidgan.families import list_families
from vidgan.io import VideoReadError, write_video


def video(seed: int, n: int = 8, size: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3)).astype(np.uint8)


def png(frame: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "PNG")
    return buf.getvalue()


def damaged_idat(frame: np.ndarray) -> bytes:
    """A PNG whose headers, chunk CRCs and IEND are intact but whose compressed pixels are garbage."""
    d = bytearray(png(frame))
    i = d.index(b"IDAT")
    n = struct.unpack(">I", d[i - 4 : i])[0]
    d[i + 14 : i + 44] = b"\xff" * 30
    d[i + 4 + n : i + 8 + n] = struct.pack(">I", zlib.crc32(bytes(d[i : i + 4 + n])))
    return bytes(d)


def truncated_faststart(path, frames: np.ndarray) -> None:
    plain = str(path) + ".plain.mp4"
    write_video(plain, frames)
    with av.open(plain) as src, av.open(str(path), "w", options={"movflags": "faststart"}) as dst:
        s = src.streams.video[0]
        out = dst.add_stream_from_template(s)
        for p in src.demux(s):
            if p.dts is not None:
                p.stream = out
                dst.mux(p)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) * 6 // 10])
    os.remove(plain)


def frame_folder(path, frames: np.ndarray, bad: dict[int, bytes] | None = None) -> None:
    path.mkdir(parents=True)
    for k, f in enumerate(frames):
        (path / f"{k:06d}.png").write_bytes((bad or {}).get(k, png(f)))


@pytest.fixture()
def root(tmp_path):
    """10 good mp4s, one truncated faststart mp4, one frame folder whose last PNG is cut short (the scan
    sees both), and four 3-frame folders with one damaged frame each behind intact headers (it cannot)."""
    r = tmp_path / "data"
    r.mkdir()
    for k in range(10):
        write_video(r / f"good{k:02d}.mp4", video(k))
    truncated_faststart(r / "trunc.mp4", video(99, n=30))
    v = video(50)
    frame_folder(r / "tailcut", v, {7: png(v[7])[:-40]})
    for k in range(4):
        v = video(60 + k, n=3)
        frame_folder(r / f"a_damaged{k}", v, {1: damaged_idat(v[1])})
    return r


def test_scan_reports_what_training_would_hit(root):
    cfg = DataConfig(source=str(root), frames=3, size=16, val_fraction=0.0)
    with pytest.warns(UserWarning, match=r"using 14 videos; skipped 2 unreadable"):
        ds = build_dataset(cfg)
    bad = dict(ds.bad)
    assert sorted(bad) == ["tailcut", "trunc.mp4"]
    assert "truncated: the container promises 30 frames" in bad["trunc.mp4"]
    assert "000007.png: truncated PNG" in bad["tailcut"]
    with pytest.raises(VideoReadError, match=r"2 unreadable video\(s\).*(trunc\.mp4|tailcut)"):
        build_dataset(DataConfig(source=str(root), frames=3, size=16, strict=True))


def test_damaged_frame_mid_run_is_substituted_deterministically(root):
    cfg = DataConfig(source=str(root), frames=3, size=16, val_fraction=0.0)
    with pytest.warns(UserWarning):
        ds = build_dataset(cfg)
    i = [v.relpath for v in ds.videos].index("a_damaged0")
    with pytest.warns(UserWarning, match=r"a_damaged0/000001\.png.*truncated or corrupt.*skipped from now on"):
        ex = ds[(i, 5)]
    assert ex["video"].shape == (3, 3, 16, 16) and i in ds.failed
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per file: a second hit is silent
        again = ds[(i, 5)]
    torch.testing.assert_close(again["video"], ex["video"], rtol=0, atol=0)
    with pytest.warns(UserWarning):
        fresh = build_dataset(cfg)  # knows nothing about the failure: same substitute, same example
    with pytest.warns(UserWarning):
        torch.testing.assert_close(fresh[(i, 5)]["video"], ex["video"], rtol=0, atol=0)
    others = {ds[(j, 5)]["video"].numpy().tobytes() for j in range(len(ds)) if j not in ds.failed}
    assert ex["video"].numpy().tobytes() in others  # it is another video's own example for that seed
    strict = DataConfig(source=str(root / "a_damaged0"), frames=3, size=16, val_fraction=0.0, strict=True)
    with pytest.raises(VideoReadError, match=r"a_damaged0/000001\.png: frame is truncated or corrupt"):
        build_dataset(strict)[(0, 5)]


OVERRIDES = [
    "train.log_every_clips=2",
    "train.sample_every_clips=1000000",
    "train.checkpoint_every_clips=1000000",
    "train.ema_half_life_clips=4",
    "train.batch_size=2",
    "data.val_fraction=0.0",
    "data.strict=false",
]


def test_training_skips_bad_files_and_resumes_bitwise(root, tmp_path, assert_same):
    cfg = resolve_run_config(f"{list_families()[0]}:tiny", [*OVERRIDES, f"data.source={root}"])
    cpu = torch.device("cpu")

    def dataset():  # a new process each time: nothing remembered between runs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run_dataset(cfg, "train")

    full_ds = dataset()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        full = train(cfg, tmp_path / "full", full_ds, device=cpu, max_clips=4, progress=False)
        half = train(cfg, tmp_path / "split", dataset(), device=cpu, max_clips=2, progress=False)
        resumed = train(cfg, tmp_path / "split", dataset(), device=cpu, max_clips=4, progress=False)
    assert half.step == 1 and full.step == resumed.step == 2
    assert full_ds.failed, "the run never met a damaged video: the test data no longer exercises the skip"
    assert any("a_damaged" in str(w.message) for w in seen)
    a = ckpt_io.load(ckpt_io.latest_checkpoint(tmp_path / "full"))
    b = ckpt_io.load(ckpt_io.latest_checkpoint(tmp_path / "split"))
    for key in ("modules", "ema", "optimizers", "objective", "progress"):
        assert_same(a[key], b[key], key)
