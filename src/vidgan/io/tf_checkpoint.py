"""Read TensorFlow V2 checkpoints ("tensor bundles") with numpy only — no TensorFlow dependency.

A checkpoint ``PREFIX`` is ``PREFIX.index`` plus ``PREFIX.data-NNNNN-of-MMMMM`` shards.

* The index is a LevelDB-format table: (snappy-compressed) data blocks of prefix-compressed key/value
  entries, an index block pointing at them, and a 48-byte footer (two block handles, then the magic
  ``0xdb4775248b80fb57``).
* Each key is a variable name; each value a ``BundleEntryProto`` protobuf (dtype, shape, shard, offset,
  size, masked CRC32C of the raw bytes). The empty key holds the ``BundleHeaderProto`` (shard count).
* Tensors are raw little-endian bytes at ``offset`` in their shard.

Only what TF writes for ordinary variables is supported (raw or snappy blocks, unsliced tensors, numeric
dtypes); anything else raises :class:`TFCheckpointError` naming the file and the entry.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidgan.io.crc32c import masked_crc32c

__all__ = ["TFCheckpointError", "TensorEntry", "read_index", "TFCheckpoint"]

_MAGIC = 0xDB4775248B80FB57
# tensorflow/core/framework/types.proto DataType -> numpy (little-endian)
_DTYPES = {
    1: "<f4",
    2: "<f8",
    3: "<i4",
    4: "u1",
    5: "<i2",
    6: "i1",
    9: "<i8",
    10: "?",
    17: "<u2",
    19: "<f2",
    22: "<u4",
    23: "<u8",
}


class TFCheckpointError(ValueError):
    pass


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int  # TF DataType enum
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int  # masked


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise TFCheckpointError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _proto_fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """Decode one protobuf message into (field number, value) pairs (varint / fixed / bytes)."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", buf, pos)[0], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + n], pos + n
        elif wire == 5:
            value, pos = struct.unpack_from("<I", buf, pos)[0], pos + 4
        else:
            raise TFCheckpointError(f"unsupported protobuf wire type {wire}")
        out.append((field, value))
    return out


def _snappy_decompress(buf: bytes) -> bytes:
    """Raw snappy (the block compression TF uses for checkpoint indexes): literals and back-references."""
    n, pos = _varint(buf, 0)
    out = bytearray()
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            length = tag >> 2
            if length >= 60:
                nb = length - 59
                length = int.from_bytes(buf[pos : pos + nb], "little")
                pos += nb
            length += 1
            out += buf[pos : pos + length]
            pos += length
            continue
        if kind == 1:
            length, offset = ((tag >> 2) & 7) + 4, ((tag >> 5) << 8) | buf[pos]
            pos += 1
        elif kind == 2:
            length, offset = (tag >> 2) + 1, int.from_bytes(buf[pos : pos + 2], "little")
            pos += 2
        else:
            length, offset = (tag >> 2) + 1, int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise TFCheckpointError("corrupt snappy block")
        start = len(out) - offset
        for i in range(length):  # may overlap its own output: byte by byte
            out.append(out[start + i])
    if len(out) != n:
        raise TFCheckpointError("corrupt snappy block (length mismatch)")
    return bytes(out)


def _block_entries(data: bytes, offset: int, size: int, where: str) -> list[tuple[bytes, bytes]]:
    """Key/value pairs of one table block (restart-point prefix compression)."""
    block = data[offset : offset + size]
    kind = data[offset + size]  # 5-byte trailer: compression type, masked crc
    if kind == 1:
        block = _snappy_decompress(block)
    elif kind != 0:
        raise TFCheckpointError(f"{where}: unsupported block compression type {kind}")
    n_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * n_restarts
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + vlen]))
        pos += vlen
    return entries


def _handle(buf: bytes, pos: int = 0) -> tuple[int, int, int]:
    off, pos = _varint(buf, pos)
    size, pos = _varint(buf, pos)
    return off, size, pos


def read_index(path: str | os.PathLike) -> tuple[int, dict[str, TensorEntry]]:
    """``(num_shards, {name: TensorEntry})`` from a ``*.index`` file."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 48 or struct.unpack_from("<Q", data, len(data) - 8)[0] != _MAGIC:
        raise TFCheckpointError(f"{path}: not a TensorFlow checkpoint index (bad table magic)")
    footer = data[-48:]
    _, _, pos = _handle(footer)  # metaindex (unused)
    idx_off, idx_size, _ = _handle(footer, pos)
    num_shards, entries = 1, {}
    for _, handle in _block_entries(data, idx_off, idx_size, str(path)):
        off, size, _ = _handle(handle)
        for key, value in _block_entries(data, off, size, str(path)):
            fields = _proto_fields(value)
            if key == b"":  # BundleHeaderProto: num_shards (1), endianness (2), version (3)
                f = dict((k, v) for k, v in fields)
                num_shards = int(f.get(1, 1))
                if f.get(2, 0) != 0:
                    raise TFCheckpointError(f"{path}: big-endian checkpoints are not supported")
                continue
            name = key.decode()
            f: dict[int, object] = {}
            dims: list[int] = []
            for k, v in fields:
                if k == 2:  # TensorShapeProto: repeated Dim (2) {size (1)}
                    for sk, sv in _proto_fields(v):
                        if sk == 2:
                            dims.append(int(dict(_proto_fields(sv)).get(1, 0)))
                elif k == 7:
                    raise TFCheckpointError(f"{path}: {name} is a sliced (partitioned) variable: not supported")
                else:
                    f[k] = v
            entries[name] = TensorEntry(
                name,
                int(f.get(1, 0)),
                tuple(dims),
                int(f.get(3, 0)),
                int(f.get(4, 0)),
                int(f.get(5, 0)),
                int(f.get(6, 0)),
            )
    return num_shards, entries


class TFCheckpoint:
    """``TFCheckpoint(prefix)``: ``.names``, ``.entries[name]``, ``ckpt[name] -> np.ndarray`` (CRC-checked).

    ``prefix`` may be given with or without the ``.index`` suffix.
    """

    def __init__(self, prefix: str | os.PathLike):
        prefix = str(prefix)
        if prefix.endswith(".index"):
            prefix = prefix[: -len(".index")]
        self.prefix = prefix
        index = Path(prefix + ".index")
        if not index.is_file():
            raise TFCheckpointError(f"{index}: no such checkpoint index (pass the PREFIX of PREFIX.index)")
        self.num_shards, self.entries = read_index(index)

    @property
    def names(self) -> list[str]:
        return sorted(self.entries)

    def shard_path(self, shard: int) -> Path:
        return Path(f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}")

    def __getitem__(self, name: str) -> np.ndarray:
        e = self.entries.get(name)
        if e is None:
            raise KeyError(f"{self.prefix}: no variable {name!r}")
        if e.dtype not in _DTYPES:
            raise TFCheckpointError(f"{self.prefix}: {name} has unsupported dtype enum {e.dtype}")
        shard = self.shard_path(e.shard_id)
        if not shard.is_file():
            raise TFCheckpointError(f"{shard}: missing data shard for {name}")
        with open(shard, "rb") as f:
            f.seek(e.offset)
            raw = f.read(e.size)
        if len(raw) != e.size:
            raise TFCheckpointError(f"{shard}: truncated at {name} (wanted {e.size} bytes at {e.offset})")
        if masked_crc32c(raw) != e.crc32c:
            raise TFCheckpointError(f"{shard}: CRC32C mismatch for {name}: the file is corrupt")
        return np.frombuffer(raw, dtype=_DTYPES[e.dtype]).reshape(e.shape).copy()
