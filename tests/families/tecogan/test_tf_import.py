"""Official TF checkpoint -> compat="tf" FRNet: a TF bundle written here (TF's on-disk format, no TensorFlow)
imports key for key and the imported model computes exactly what the original does."""

import struct

import numpy as np
import torch

from vidgan.families.tecogan import Config, build_generator
from vidgan.families.tecogan.convert import import_weights
from vidgan.families.tecogan.tf_convert import tf_generator_names
from vidgan.io.crc32c import masked_crc32c


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _block(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack("<II", 0, 1)  # one restart point at 0


def write_tf_bundle(prefix: str, arrays: dict[str, np.ndarray]) -> None:
    """Single-shard TF V2 checkpoint: uncompressed LevelDB table of BundleEntryProto + raw data file."""
    data, entries = bytearray(), [(b"", b"\x08\x01")]  # BundleHeaderProto{num_shards: 1}
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name], dtype="<f4")
        raw = a.tobytes()
        shape = b"".join(b"\x12" + _varint(len(d)) + d for d in (b"\x08" + _varint(s) for s in a.shape))
        entry = (
            b"\x08\x01"
            + b"\x12"
            + _varint(len(shape))
            + shape
            + b"\x20"
            + _varint(len(data))
            + b"\x28"
            + _varint(len(raw))
            + b"\x35"
            + struct.pack("<I", masked_crc32c(raw))
        )
        entries.append((name.encode(), entry))
        data += raw
    table = bytearray()
    blk = _block(entries)
    data_handle = _varint(0) + _varint(len(blk))
    table += blk + b"\0" * 5
    meta = _block([])
    meta_handle = _varint(len(table)) + _varint(len(meta))
    table += meta + b"\0" * 5
    index = _block([(entries[-1][0], data_handle)])
    index_handle = _varint(len(table)) + _varint(len(index))
    table += index + b"\0" * 5
    footer = (meta_handle + index_handle).ljust(40, b"\0") + struct.pack("<Q", 0xDB4775248B80FB57)
    with open(prefix + ".index", "wb") as f:
        f.write(table + footer)
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(data)


def test_official_tf_checkpoint_imports_key_for_key(tmp_path):
    torch.manual_seed(0)
    cfg = Config(compat="tf", num_blocks=3)
    ref = build_generator(cfg).eval()
    sd = ref.state_dict()
    arrays = {"discriminator/discriminator_unit/output/Conv/weights": np.zeros((1, 1, 1, 1), np.float32)}
    for ours, theirs in tf_generator_names(3).items():
        arrays[f"{theirs}/weights"] = sd[f"{ours}.weight"].permute(2, 3, 1, 0).numpy()  # torch -> TF kernel
        arrays[f"{theirs}/biases"] = sd[f"{ours}.bias"].numpy()
    assert len(arrays) == 1 + 2 * (14 + 2 * 3 + 4)  # FNet 14 convs, 3 blocks x 2, in/up/up/out
    prefix = str(tmp_path / "TecoGAN")
    write_tf_bundle(prefix, arrays)

    out = import_weights(prefix, tmp_path / "imported")  # what `vidgan weights import tecogan PREFIX` calls
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["config"]["family"]["compat"] == "tf" and ckpt["config"]["family"]["num_blocks"] == 3
    got = ckpt["modules"]["generator"]
    assert got.keys() == sd.keys() and all(torch.equal(got[k], sd[k]) for k in sd)

    from vidgan.families.tecogan.stream import load_upscaler

    model, _ = load_upscaler(out, "cpu")
    lr = torch.rand(1, 3, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(model.forward_sequence(lr)["hr"], ref.forward_sequence(lr)["hr"])
