"""Bounded reads: zip bombs, decompression-bomb headers, truncated and bit-flipped inputs all end in one
``VideoReadError`` line naming the file (and the zip member), fast and without inflating anything large."""

from __future__ import annotations

import io
import os
import resource
import struct
import time
import zipfile
import zlib

import av
import numpy as np
import pytest
from PIL import Image

from vidgan.io import VideoReader, VideoReadError, list_videos, read_image, read_video, video_io, write_video
from vidgan.metrics.vsr import teco_sequence


# ------------------------------------------------------------------------------------------- helpers
def png_bytes(frame: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "PNG")
    return buf.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(w: int, h: int, depth: int = 8, colour: int = 2) -> bytes:
    """A PNG that declares ``w x h`` but holds one tiny IDAT (a decompression-bomb header)."""
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def png16(w: int, h: int) -> bytes:
    """A complete 16-bit-per-channel RGB PNG (Pillow opens it as 8-bit 'RGB')."""
    raw = b"".join(b"\0" + bytes(range(256))[: w * 6].ljust(w * 6, b"\x7f") for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def bomb_zip(path, member: str, inflated: int, head: bytes = b"") -> None:
    """A zip whose one deflated ``member`` really inflates to ``inflated`` bytes (``head`` then zeros).

    Built from one repeated full-flush deflate block, so a 3 GB member costs milliseconds and ~3 MB. The CRC
    is left 0: a reader that inflated the member to the end would fail on it, but only after the damage."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    mib = 1 << 20
    block = c.compress(bytes(mib)) + c.flush(zlib.Z_FULL_FLUSH)
    n, rest = divmod(inflated - len(head), mib)
    data = first + block * n + c.compress(bytes(rest)) + c.flush()
    name = member.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, 0, len(data), inflated, len(name), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, 0, len(data), inflated, len(name), 0, 0, 0, 0, 0, 0
    )
    cd_off = len(local) + len(name) + len(data)
    cd = central + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cd), cd_off, 0)
    with open(path, "wb") as f:
        f.write(local + name + data + cd + end)


def faststart_mp4(path, video: np.ndarray) -> bytes:
    """A real mp4 (vidgan's writer) remuxed with its index (moov) first, as streaming sites serve them."""
    plain = str(path) + ".plain.mp4"
    write_video(plain, video)
    with av.open(plain) as src, av.open(str(path), "w", options={"movflags": "faststart"}) as dst:
        s = src.streams.video[0]
        out = dst.add_stream_from_template(s)
        for p in src.demux(s):
            if p.dts is None:
                continue
            p.stream = out
            dst.mux(p)
    os.remove(plain)
    return open(path, "rb").read()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def frames(n=6, h=16, w=16, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3)).astype(np.uint8)


# ------------------------------------------------------------------------------------------- zip bombs
def test_zip_bomb_member_refused_fast_without_inflating(tmp_path):
    z = tmp_path / "bomb.zip"
    bomb_zip(z, "v/000000.png", 3 * 10**9, head=png_header_only(64, 64)[:33])  # 3 GB behind a valid IHDR
    assert z.stat().st_size < 4 * 10**6
    before, t0 = rss_mb(), time.perf_counter()
    assert list_videos(z) == [f"{z}/v"]
    with pytest.raises(VideoReadError) as e:
        VideoReader(f"{z}/v").read()
    assert time.perf_counter() - t0 < 5
    assert rss_mb() - before < 200
    msg = str(e.value)
    assert str(z) in msg and "v/000000.png" in msg and "zip bomb" in msg and "\n" not in msg


def test_zip_bomb_under_the_byte_limit_refused_by_declared_frame_size(tmp_path):
    """300 MB of zeros behind a 64x64 PNG header: under MAX_MEMBER_BYTES, but far more than 64x64 can need."""
    z = tmp_path / "bomb.zip"
    head = png_header_only(64, 64)[:33] + struct.pack(">I", 2**31 - 1) + b"IDAT"  # IHDR, then one huge IDAT
    bomb_zip(z, "v/000000.png", 300 * 10**6, head=head)
    before, t0 = rss_mb(), time.perf_counter()
    with pytest.raises(VideoReadError, match=r"for a 64x64 frame") as e:
        VideoReader(f"{z}/v")
    assert time.perf_counter() - t0 < 5 and rss_mb() - before < 200
    assert "v/000000.png" in str(e.value)


def test_lying_ratio_refused(tmp_path, monkeypatch):
    z = tmp_path / "lie.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("v/0.png", png_bytes(frames(1)[0]))
    info = zipfile.ZipFile(z).getinfo("v/0.png")
    info.file_size = 2000 * max(info.compress_size, 1) + (2 << 20)  # impossible for deflate
    with pytest.raises(VideoReadError, match="compression ratio"):
        video_io._check_member(info, "lie.zip (member v/0.png)")


# ------------------------------------------------------------------------------------------- bomb headers
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("where", ["folder", "zip"])
def test_decompression_bomb_png_header(tmp_path, where, monkeypatch):
    monkeypatch.setattr(video_io, "MAX_FRAME_PIXELS", 10**8)  # below Pillow's own guard (~1.8e8): ours speaks
    bomb = png_header_only(12_000, 10_000)
    if where == "folder":
        (tmp_path / "v").mkdir()
        (tmp_path / "v" / "0.png").write_bytes(bomb)
        path, names = tmp_path / "v", ["0.png"]
    else:
        with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
            zf.writestr("v/0.png", bomb)
        path, names = f"{tmp_path / 'a.zip'}/v", ["a.zip", "v/0.png"]
    t0 = time.perf_counter()
    with pytest.raises(VideoReadError, match=r"12000x10000 = 120000000 pixels, over the limit of 100000000") as e:
        VideoReader(path)
    assert time.perf_counter() - t0 < 2 and all(n in str(e.value) for n in names)


def test_decompression_bomb_gif_and_pillow_guard(tmp_path):
    gif = tmp_path / "big.gif"
    Image.new("P", (8, 8)).save(gif)
    data = bytearray(gif.read_bytes())
    data[6:10] = struct.pack("<HH", 65535, 65535)  # logical screen 65535 x 65535
    gif.write_bytes(bytes(data))
    with pytest.raises(VideoReadError, match="big.gif"):
        VideoReader(gif)
    # Pillow's own guard (2 x Image.MAX_IMAGE_PIXELS) is below ours here: still one VideoReadError line
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "0.png").write_bytes(png_header_only(20_000, 10_000))
    with pytest.raises(VideoReadError, match="too many pixels, refused by Pillow's decompression-bomb") as e:
        VideoReader(tmp_path / "p")
    assert "0.png" in str(e.value)


def test_video_stream_size_checked_before_decoding(tmp_path, monkeypatch):
    write_video(tmp_path / "a.mp4", frames(4, 32, 32))
    monkeypatch.setattr(video_io, "MAX_FRAME_PIXELS", 1000)
    with pytest.raises(VideoReadError, match=r"a\.mp4: declares 32x32 = 1024 pixels, over the limit of 1000"):
        VideoReader(tmp_path / "a.mp4")


def test_env_limit_is_validated(monkeypatch):
    monkeypatch.setenv("VIDGAN_MAX_FRAME_PIXELS", "4096")
    assert video_io._pixels_from_env() == 4096
    monkeypatch.setenv("VIDGAN_MAX_FRAME_PIXELS", "lots")
    with pytest.raises(ValueError, match="VIDGAN_MAX_FRAME_PIXELS: 'lots' is not a positive pixel count"):
        video_io._pixels_from_env()


# ------------------------------------------------------------------------------------------- truncation / damage
def test_truncated_gif(tmp_path):
    write_video(tmp_path / "a.gif", frames(6))
    data = (tmp_path / "a.gif").read_bytes()
    (tmp_path / "t.gif").write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(VideoReadError, match="t.gif"):
        r = VideoReader(tmp_path / "t.gif")
        r.verify()
        r.read()


def test_bit_flipped_deflated_member(tmp_path):
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, f in enumerate(frames(3, 32, 32)):
            zf.writestr(f"v/{k:06d}.png", png_bytes(f))
    info = zipfile.ZipFile(z).getinfo("v/000001.png")
    data = bytearray(z.read_bytes())
    start = info.header_offset + 30 + len(info.filename)  # no extra field: zipfile writes none here
    data[start + 20 : start + 60] = b"\xff" * 40  # the deflate stream of member 1 is damaged
    z.write_bytes(bytes(data))
    r = VideoReader(f"{z}/v")  # frame 0 is intact
    with pytest.raises(VideoReadError) as e:
        r.read()
    assert str(z) in str(e.value) and "v/000001.png" in str(e.value)


def test_truncated_faststart_mp4(tmp_path):
    data = faststart_mp4(tmp_path / "full.mp4", frames(30, 32, 32))
    (tmp_path / "t.mp4").write_bytes(data[: len(data) * 6 // 10])
    r = VideoReader(tmp_path / "t.mp4")  # the index at the front still promises every frame
    assert r.num_frames == 30
    with pytest.raises(VideoReadError, match=r"t\.mp4: truncated: the container promises 30 frames but holds"):
        r.verify()
    with pytest.raises(VideoReadError, match=r"t\.mp4"):
        r.read(25, 5)
    VideoReader(tmp_path / "full.mp4").verify()  # the intact one passes
    # a plain (index-last) mp4 cut short loses its index: refused on open
    write_video(tmp_path / "p.mp4", frames(30, 32, 32))
    d = (tmp_path / "p.mp4").read_bytes()
    (tmp_path / "p.mp4").write_bytes(d[: len(d) // 2])
    with pytest.raises(VideoReadError, match=r"p\.mp4"):
        VideoReader(tmp_path / "p.mp4")


def test_folder_checks_16bit_mixed_sizes_and_truncated_png(tmp_path):
    v = tmp_path / "v"
    v.mkdir()
    for k, f in enumerate(frames(3)):
        (v / f"{k}.png").write_bytes(png_bytes(f))
    VideoReader(v).verify()
    (v / "1.png").write_bytes(png_bytes(frames(1, 16, 20)[0]))
    with pytest.raises(VideoReadError, match=r"1\.png: frame has size \(16, 20\) but frame 0 \(0\.png\)"):
        VideoReader(v).verify()
    (v / "1.png").write_bytes(png16(16, 16))
    with pytest.raises(VideoReadError, match=r"1\.png: unsupported high bit depth.*RGB;16B"):
        VideoReader(v).verify()
    with pytest.raises(VideoReadError, match="high bit depth"):
        read_video(v)
    (v / "1.png").write_bytes(png_bytes(frames(1)[0])[:-30])
    with pytest.raises(VideoReadError, match=r"1\.png: truncated PNG"):
        VideoReader(v).verify()


def test_vsr_refuses_16bit_and_mixed_sizes(tmp_path):
    good = [tmp_path / f"{k}.png" for k in range(3)]
    for p, f in zip(good, frames(3, 16, 16)):
        p.write_bytes(png_bytes(f))
    (tmp_path / "deep.png").write_bytes(png16(16, 16))
    with pytest.raises(VideoReadError, match=r"deep\.png: unsupported high bit depth"):
        read_image(tmp_path / "deep.png")
    with pytest.raises(VideoReadError, match="deep.png"):
        teco_sequence(good, [*good[:2], tmp_path / "deep.png"], ["psnr_rgb"], crop_border=0)
    (tmp_path / "wide.png").write_bytes(png_bytes(frames(1, 16, 24)[0]))
    with pytest.raises(ValueError, match=r"ground-truth frame 2 \(.*wide\.png\): size 16x24 differs"):
        teco_sequence([*good[:2], tmp_path / "wide.png"], good, ["psnr_rgb"], crop_border=0)


def test_symlink_loops_are_ignored(tmp_path):
    (tmp_path / "a").mkdir()
    write_video(tmp_path / "a" / "x.mp4", frames(4))
    os.symlink("..", tmp_path / "a" / "up")  # folder loop
    os.symlink("self.mp4", tmp_path / "self.mp4")  # a link to itself
    os.symlink("missing.mp4", tmp_path / "dangling.mp4")
    assert list_videos(tmp_path) == [str(tmp_path / "a" / "x.mp4")]
