"""TGANv2's official HDF5 datasets (``image`` uint8 (frames, 3, H, W) + ``.json`` start/end records)."""

import json
import pickle
import sys

import numpy as np
import pytest
from PIL import Image

from vidgan.cli.main import main
from vidgan.data import DataConfig, VideoSource, build_dataset, contiguous_start
from vidgan.data.hdf5 import MISSING_H5PY, HDF5VideoReader, hdf5_videos, open_hdf5, split_h5_path
from vidgan.io import VideoReadError

h5py = pytest.importorskip("h5py")

LENGTHS = (10, 12, 9, 11)


def _write(root, lengths=LENGTHS, hw=(6, 8), channels_last=False, orient="records", seed=0, name="train"):
    """The official layout: videos concatenated in ``image``, ``<name>.json`` records with start/end/category."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (sum(lengths), 3, *hw), dtype=np.uint8)  # (frames, 3, H, W)
    stored = arr.transpose(0, 2, 3, 1) if channels_last else arr
    path = root / f"{name}.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("image", data=stored)
    starts = np.cumsum([0, *lengths])
    recs = [{"start": int(starts[k]), "end": int(starts[k + 1]), "category": f"C{k % 2}"} for k in range(len(lengths))]
    if orient == "columns":  # pandas' default DataFrame.to_json orientation
        doc = {c: {str(k): r[c] for k, r in enumerate(recs)} for c in ("start", "end", "category")}
    else:
        doc = recs
    (root / f"{name}.json").write_text(json.dumps(doc))
    videos = [arr[starts[k] : starts[k + 1]].transpose(0, 2, 3, 1) for k in range(len(lengths))]  # (T, H, W, 3)
    return path, videos


@pytest.mark.parametrize("channels_last,orient", [(False, "records"), (True, "columns")])
def test_reader_matches_array(tmp_path, channels_last, orient):
    path, videos = _write(tmp_path, channels_last=channels_last, orient=orient)
    infos = hdf5_videos(path)
    assert [i.num_frames for i in infos] == list(LENGTHS)
    assert [i.relpath for i in infos] == ["0", "1", "2", "3"] and infos[1].path == f"{path}/1"
    assert (infos[0].height, infos[0].width) == (6, 8)
    r = HDF5VideoReader(f"{path}/1")
    v = videos[1]
    assert r.num_frames == 12 and r.size == (6, 8) and r.fps == 25.0 and r.category == "C1"
    idx = [3, 0, 0, 11, 2]
    np.testing.assert_array_equal(r.read_frames(idx), v[idx])
    np.testing.assert_array_equal(r.read(1, 4, 3), v[1:11:3])
    np.testing.assert_array_equal(r.read(), v)
    np.testing.assert_array_equal(np.stack(list(r.iter_frames(chunk=5))), v)
    np.testing.assert_array_equal(r[-1], v[-1])
    assert r.read_frames([]).shape == (0, 6, 8, 3)
    with pytest.raises(IndexError, match="must lie in"):
        r.read_frames([12])
    with pytest.raises(IndexError, match="exceed"):
        r.read(10, 3)
    r.verify()
    assert split_h5_path("a/b.HDF5/7") == ("a/b.HDF5", 7) and split_h5_path("a/b.zip/7") is None


def test_reads_are_bounded(tmp_path):
    """Only the asked frames are selected from the array: one slice, or one point selection."""
    path, videos = _write(tmp_path)
    store = open_hdf5(path)
    seen = []

    class Spy:
        def __init__(self, d):
            self.d = d

        def __getitem__(self, key):
            seen.append(key)
            return self.d[key]

    real = store._dataset
    store._dataset = lambda: Spy(real())
    try:
        r = HDF5VideoReader(f"{path}/2")  # frames [22, 31)
        np.testing.assert_array_equal(r.read(2, 3, 2), videos[2][2:7:2])
        np.testing.assert_array_equal(r.read_frames([5, 1, 5]), videos[2][[5, 1, 5]])
    finally:
        del store._dataset
    assert seen == [slice(24, 29, 2), [23, 27]]


def test_sampler_path_equals_frame_folders(tmp_path):
    """The public dataset API gives the same examples from the .h5 as from the same frames as PNG folders
    named like the .h5's videos (same split, same draws, same crops)."""
    path, videos = _write(tmp_path / "h5", hw=(8, 12))
    folders = tmp_path / "png"
    for k, v in enumerate(videos):
        (folders / str(k)).mkdir(parents=True)
        for t, frame in enumerate(v):
            Image.fromarray(frame).save(folders / str(k) / f"{t:03d}.png")
    cases = [
        dict(sampler="clips", frames=4, size=8, crop="random", hflip=True, stride=2),
        dict(sampler="multilevel", frames=8, size=8, crop="random", subsample_frame=(2, 2, 2)),
        dict(sampler="random_t", frames=3, size=8, max_dist=8),
    ]
    for kw in cases:
        for split in ("train", "val"):
            a = build_dataset(DataConfig(source=str(path), val_fraction=0.3, **kw), split)
            b = build_dataset(DataConfig(source=str(folders), val_fraction=0.3, **kw), split)
            assert len(a) == len(b) > 0
            for i in range(len(a)):
                ea, eb = a[(i, 100 + i)], b[(i, 100 + i)]
                assert ea.keys() == eb.keys()
                for key in ea:
                    xa, xb = (ea[key], eb[key]) if key != "levels" else (ea[key][-1], eb[key][-1])
                    assert xa.dtype == xb.dtype and bool((xa == xb).all()), (kw["sampler"], split, i, key)
    cfg = DataConfig(source=str(path), frames=4, size=8, resize="none", crop="none", val_fraction=0)
    ds = build_dataset(cfg, "train")
    e = ds[(3, 5)]["video"]  # (C, T, H, W): the stored frames, untouched
    start = contiguous_start(np.random.default_rng(5), LENGTHS[3], 4, 1)
    np.testing.assert_array_equal(e.permute(1, 2, 3, 0).numpy(), videos[3][start : start + 4])
    ds2 = pickle.loads(pickle.dumps(ds))  # DataLoader workers: no open handle travels
    assert bool((ds2[(3, 5)]["video"] == e).all())
    src = VideoSource(str(path))
    assert len(src) == 4 and src.names[2] == f"{path}/2"
    np.testing.assert_array_equal(src[2], videos[2])


def _bad(tmp_path, name, data=None, recs=None, json_text=None):
    p = tmp_path / f"{name}.h5"
    with h5py.File(p, "w") as f:
        if data is not None:
            f.create_dataset(data[0], data=data[1]) if isinstance(data, tuple) else f.create_group("image")
    if json_text is not None:
        (tmp_path / f"{name}.json").write_text(json_text)
    elif recs is not None:
        (tmp_path / f"{name}.json").write_text(json.dumps(recs))
    return p


def test_validation_errors_name_the_file(tmp_path):
    ok = [{"start": 0, "end": 4}]
    u8 = np.zeros((4, 3, 2, 2), np.uint8)
    cases = [
        (_bad(tmp_path, "nodata", ("other", u8), ok), r"nodata.h5: no dataset 'image' \(holds: other\)"),
        (_bad(tmp_path, "group", "group", ok), "group.h5: 'image' is a group"),
        (_bad(tmp_path, "f32", ("image", u8.astype(np.float32)), ok), "f32.h5: 'image' has dtype float32"),
        (_bad(tmp_path, "ndim", ("image", u8[0]), ok), r"ndim.h5: 'image' has shape \(3, 2, 2\), expected 4-D"),
        (_bad(tmp_path, "chan", ("image", np.zeros((4, 2, 5, 5), np.uint8)), ok), "chan.h5: .* no axis of 3 RGB"),
        (_bad(tmp_path, "nojson", ("image", u8)), "nojson.json: missing; .*nojson.h5 needs the .json"),
        (_bad(tmp_path, "junk", ("image", u8), json_text="{oops"), "junk.json: not valid JSON"),
        (_bad(tmp_path, "empty", ("image", u8), []), "empty.json: lists no videos"),
        (_bad(tmp_path, "noint", ("image", u8), [{"start": "0", "end": 4}]), "noint.json: video 0 needs integer"),
        (
            _bad(tmp_path, "oob", ("image", u8), [{"start": 0, "end": 2}, {"start": 2, "end": 5}]),
            r"oob.json: video 1 frames \[2, 5\) leave the 4 frames of .*oob.h5",
        ),
        (_bad(tmp_path, "backwards", ("image", u8), [{"start": 3, "end": 3}]), r"video 0 frames \[3, 3\)"),
    ]
    noth5 = tmp_path / "text.h5"
    noth5.write_text("not hdf5")
    cases.append((noth5, "text.h5: not a readable HDF5 file"))
    for path, msg in cases:
        with pytest.raises(VideoReadError, match=msg):
            build_dataset(DataConfig(source=str(path), frames=2, size=2))
    ok_path, _ = _write(tmp_path, name="ok")
    with pytest.raises(VideoReadError, match="no video 9"):
        HDF5VideoReader(f"{ok_path}/9")


def test_cli_one_line_errors(tmp_path, monkeypatch, capsys):
    bad = _bad(tmp_path, "f32", ("image", np.zeros((4, 3, 2, 2), np.float32)), [{"start": 0, "end": 4}])
    assert main(["eval", "fvd", "--real", str(bad), "--fake", str(bad), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "f32.h5: 'image' has dtype float32" in err
    path, _ = _write(tmp_path / "fresh")
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py -> ImportError
    with pytest.raises(RuntimeError) as exc:
        build_dataset(DataConfig(source=str(path), frames=2, size=2))
    assert str(exc.value) == MISSING_H5PY
    assert main(["eval", "fvd", "--real", str(path), "--fake", str(path), "--no-progress"]) == 1
    assert capsys.readouterr().err == 'error: data.source: reading .h5 needs h5py — pip install "vidgan[h5]"\n'
