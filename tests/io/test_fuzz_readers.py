"""Property: any byte mutation of a small valid input (PNG frame folder, GIF, zip of PNG frames, mp4) ends in a
successful read or one ``VideoReadError`` naming the file, quickly, through the reader, the indexer and the
zip dataset, and leaves no file behind (``prepare`` included: no temporary, no partial output)."""

from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from vidgan.cli import prepare
from vidgan.data.index import scan_videos
from vidgan.io import VideoReader, VideoReadError, write_video

FRAMES = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3)).astype(np.uint8)


def _png(f: np.ndarray) -> bytes:
    b = io.BytesIO()
    Image.fromarray(f).save(b, "PNG")
    return b.getvalue()


def _bases() -> dict[str, bytes]:
    d = tempfile.mkdtemp()
    try:
        write_video(os.path.join(d, "a.gif"), FRAMES)
        write_video(os.path.join(d, "a.mp4"), FRAMES)
        z = io.BytesIO()
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
            for k, f in enumerate(FRAMES):
                zf.writestr(f"v/{k:06d}.png", _png(f))
        return {
            "png": _png(FRAMES[1]),
            "gif": open(os.path.join(d, "a.gif"), "rb").read(),
            "mp4": open(os.path.join(d, "a.mp4"), "rb").read(),
            "zip": z.getvalue(),
        }
    finally:
        shutil.rmtree(d)


BASES = _bases()

# a mutation: truncate at a fraction, then overwrite / insert / delete a few bytes at fractional positions
mutation = st.tuples(
    st.one_of(st.none(), st.floats(0.0, 1.0)),
    st.lists(
        st.tuples(
            st.sampled_from(["set", "insert", "delete"]), st.floats(0.0, 1.0), st.binary(min_size=1, max_size=8)
        ),
        max_size=4,
    ),
)


def mutate(data: bytes, m) -> bytes:
    cut, edits = m
    b = bytearray(data[: int(len(data) * cut)] if cut is not None else data)
    for op, where, blob in edits:
        i = int(len(b) * where)
        if op == "set":
            b[i : i + len(blob)] = blob
        elif op == "insert":
            b[i:i] = blob
        else:
            del b[i : i + len(blob)]
    return bytes(b)


def place(root: str, kind: str, data: bytes) -> str:
    """Write the mutated input into ``root``; returns the path a reader opens."""
    if kind == "png":  # frame 1 of a 3-frame folder
        d = os.path.join(root, "v")
        os.makedirs(d)
        for k, f in enumerate(FRAMES):
            with open(os.path.join(d, f"{k:06d}.png"), "wb") as fh:
                fh.write(data if k == 1 else _png(f))
        return d
    path = os.path.join(root, f"a.{kind}")
    with open(path, "wb") as fh:
        fh.write(data)
    return path + "/v" if kind == "zip" else path


def check(kind: str, m) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "src")
        os.makedirs(root)
        path = place(root, kind, mutate(BASES[kind], m))
        before = sorted(os.listdir(root))
        try:
            r = VideoReader(path)
            r.verify()
            r.read()
        except VideoReadError as e:
            msg = str(e)
            assert "\n" not in msg and (os.path.basename(path.removesuffix("/v")) in msg), msg
        good, bad = scan_videos(root, use_cache=False)
        assert len(good) + len(bad) <= len(FRAMES)  # a damaged zip directory may name up to 3 folders
        assert sorted(os.listdir(root)) == before  # readers and scans write nothing
        out = os.path.join(tmp, "out.zip")
        ns = argparse.Namespace(
            src=root,
            dst=out,
            size=None,
            fps=None,
            crop="center",
            format="zip",
            image_format="png",
            quality=95,
            list_file=None,
            filter="area",
            overwrite=False,
            no_progress=True,
        )
        code = prepare.run(ns)
        names = sorted(os.listdir(tmp))
        assert names == (["out.zip", "src"] if code == 0 else ["src"]), names  # no temporary left


SETTINGS = settings(
    max_examples=40, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("kind", sorted(BASES))
def test_mutated_inputs_read_or_fail_cleanly(kind):
    @SETTINGS
    @given(mutation)
    def prop(m):
        check(kind, m)

    prop()
