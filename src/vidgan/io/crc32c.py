"""CRC32C (Castagnoli), vectorised with numpy, and the TF/LevelDB "masked" variant used by TF checkpoints."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["crc32c", "masked_crc32c"]

_POLY = 0x82F63B78


def _crc_table() -> np.ndarray:
    t = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t = np.where(t & 1, (t >> 1) ^ np.uint32(_POLY), t >> 1).astype(np.uint32)
    return t


_T = _crc_table()


def _zero_feed_tables(n: int) -> list[list[int]]:
    """Byte tables of the linear map 'register after feeding n zero bytes' (4 x 256)."""
    s = (np.uint32(1) << np.arange(32, dtype=np.uint32)).astype(np.uint32)
    for _ in range(n):
        s = _T[s & 0xFF] ^ (s >> 8)
    v = np.arange(256)
    tabs = []
    for b in range(4):
        acc = np.zeros(256, dtype=np.uint32)
        for i in range(8):
            acc ^= np.where((v >> i) & 1, s[8 * b + i], 0).astype(np.uint32)
        tabs.append(acc.tolist())
    return tabs


def crc32c(data: bytes | np.ndarray) -> int:
    """CRC32C of raw bytes (numpy arrays: their C-order bytes); ``crc32c(b"123456789") == 0xE3069283``."""
    raw = np.ascontiguousarray(data).tobytes() if isinstance(data, np.ndarray) else bytes(data)
    buf = np.frombuffer(raw, dtype=np.uint8)
    n = buf.size
    if n < 4:
        crc = 0xFFFFFFFF
        for byte in buf.tolist():
            crc = int(_T[(crc ^ byte) & 0xFF]) ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF
    chunk = max(16, math.isqrt(n))
    k = -(-n // chunk)
    pad = k * chunk - n
    m = np.zeros(k * chunk, dtype=np.uint8)
    m[pad:] = buf  # leading zeros do not change a CRC register that starts at 0
    m[pad : pad + 4] ^= 0xFF  # the 0xFFFFFFFF initial register, folded into the first 4 message bytes
    m = m.reshape(k, chunk)
    lanes = np.zeros(k, dtype=np.uint32)
    for j in range(chunk):
        lanes = _T[(lanes ^ m[:, j]) & 0xFF] ^ (lanes >> 8)
    t0, t1, t2, t3 = _zero_feed_tables(chunk)
    acc = 0
    for c in lanes.tolist():
        acc = t0[acc & 0xFF] ^ t1[(acc >> 8) & 0xFF] ^ t2[(acc >> 16) & 0xFF] ^ t3[acc >> 24] ^ c
    return acc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes | np.ndarray) -> int:
    """TF/LevelDB masked CRC32C: ``((crc >> 15) | (crc << 17)) + 0xa282ead8`` mod 2^32."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
