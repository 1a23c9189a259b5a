"""Streaming upscaler: equals whole-clip inference, golden uint8 outputs, lazy input, tiling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan.families.tecogan.convert import import_weights
from vidgan.families.tecogan.fused import FastFRNet
from vidgan.families.tecogan.generator import FRNet
from vidgan.families.tecogan.stream import StreamingUpscaler, load_upscaler


def _tiny() -> FRNet:
    torch.manual_seed(0)
    g = FRNet(nf=8, num_blocks=2).eval()
    with torch.no_grad():
        g.fnet.flow[2].weight.mul_(30)  # flows of a few pixels
    return g


def _frames(t: int, h: int = 12, w: int = 16, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(t)]


@pytest.mark.parametrize("t", [1, 3, 9])
def test_stream_equals_infer_sequence(t):
    g = _tiny()
    frames = _frames(t)
    lr = torch.from_numpy(np.stack(frames)).permute(3, 0, 1, 2)[None].float() / 255
    whole = g.infer_sequence(lr)
    outs = list(StreamingUpscaler(g).upscale_float(frames))
    assert len(outs) == t
    for i, o in enumerate(outs):
        assert (o[0] - whole[0, :, i]).abs().max() <= 1e-5
    u8 = list(StreamingUpscaler(g).upscale(frames))
    assert u8[0].shape == (48, 64, 3) and u8[0].dtype == np.uint8


def test_reads_input_lazily():
    pulled = []

    def source():
        for i, f in enumerate(_frames(20)):
            pulled.append(i)
            yield f

    it = StreamingUpscaler(_tiny()).upscale(source())
    next(it)
    assert len(pulled) == 6  # warm-up buffer of 5 + 1 frames, nothing more
    for k, _ in enumerate(it, start=1):
        assert len(pulled) == max(6, k + 1)  # output k needs input k only (after the warm-up buffer)
    assert pulled == list(range(20))


def test_tiling():
    g = _tiny()
    frames = _frames(4, 16, 24)
    full = list(StreamingUpscaler(g).upscale_float(frames))
    one_tile = list(StreamingUpscaler(g, tile=64).upscale_float(frames))
    for a, b in zip(full, one_tile, strict=True):
        assert torch.equal(a, b)
    tiled = list(StreamingUpscaler(g, tile=8, overlap=4).upscale_float(frames))
    assert all(x.shape == (1, 3, 64, 96) for x in tiled)
    assert all(torch.isfinite(x).all() for x in tiled)
    with pytest.raises(ValueError, match="tile"):
        StreamingUpscaler(g, tile=4)


def test_golden_uint8_through_imported_checkpoint(shared_dir, tmp_path, tol, assert_uint8_close):
    g = shared_dir / "golden/tecogan"
    with np.load(g / "frnet_nb10_bd_state.npz") as d:
        torch.save({k: torch.from_numpy(d[k]) for k in d.files}, tmp_path / "FRVSR_BD.pth")
    ckpt = import_weights(tmp_path / "FRVSR_BD.pth", tmp_path / "frvsr.pt")
    model, cfg = load_upscaler(ckpt)
    assert cfg.num_blocks == 10 and cfg.degradation == "bd"
    with np.load(g / "recurrent_infer_nb10.npz") as d:
        frames, ref_u8, ref = list(d["lr_u8"]), d["hr_u8"], d["hr_float_kept"]
    outs = list(StreamingUpscaler(model).upscale_float(frames))
    np.testing.assert_allclose(torch.cat(outs).numpy(), ref, atol=tol["hr_images_and_warps_float32_atol"])
    u8 = np.stack(list(StreamingUpscaler(model).upscale(frames)))
    assert_uint8_close(u8, ref_u8, ref.transpose(0, 2, 3, 1))
    # a raw port .pth loads too
    raw, _ = load_upscaler(tmp_path / "FRVSR_BD.pth")
    assert all(torch.equal(a, b) for a, b in zip(raw.state_dict().values(), model.state_dict().values()))


def test_bf16_close_to_fp32():
    g = _tiny()
    frames = _frames(3)
    a = torch.cat(list(StreamingUpscaler(g).upscale_float(frames)))
    b = torch.cat(list(StreamingUpscaler(g, dtype="bf16").upscale_float(frames)))
    assert (a - b).abs().max() < 0.1


def test_frame_size_change_is_a_clear_error():
    frames = _frames(8) + [np.zeros((16, 16, 3), np.uint8)]
    with pytest.raises(ValueError, match="frame 8: size"):
        list(StreamingUpscaler(_tiny()).upscale(frames))


@pytest.mark.parametrize("compat", ["pt", "tf"])
def test_fast_copy_matches_model_step(compat):
    """The fused channels_last copy (default) and its unfused fallback give ``FRNet.step``'s frames."""
    torch.manual_seed(0)
    g = FRNet(nf=8, num_blocks=2, compat=compat).eval()
    with torch.no_grad():
        g.fnet.flow[2].weight.mul_(30)
    frames = _frames(4, 20, 28)  # not a multiple of 8: the padded flow
    ref = list(StreamingUpscaler(g, fast=False).upscale_float(frames))
    for up in (StreamingUpscaler(g), StreamingUpscaler(g, fast=False)):
        outs = list(up.upscale_float(frames))
        assert all((a - b).abs().max() <= 1e-5 for a, b in zip(outs, ref, strict=True))
    unfused = FastFRNet(g, fuse=False)
    lr = torch.rand(1, 3, 20, 28)
    hr = torch.rand(1, 3, 80, 112)
    with torch.no_grad():
        want = g.step(lr, lr.flip(-1), hr)
    assert (unfused.step(lr, lr.flip(-1), hr) - want).abs().max() <= 1e-5
    assert (FastFRNet(g).step(lr, lr.flip(-1), hr) - want).abs().max() <= 1e-5
    # bf16: convolutions in bf16, flow/warp/skip in float32; the model itself is left as it was
    b = FastFRNet(g, "bf16").step(lr, lr.flip(-1), hr)
    assert b.dtype == torch.float32 and 0 < (b - want).abs().max() < 0.05
    assert all(p.dtype == torch.float32 and p.is_contiguous() for p in g.parameters())


def test_stream_options():
    from vidgan.families.api import StreamOptions
    from vidgan.families.tecogan import _stream

    g = _tiny()
    assert _stream({"generator": g}, StreamOptions(extra={"fast": False})).fast is False
    with pytest.raises(ValueError, match="knows only"):
        _stream({"generator": g}, StreamOptions(extra={"seed": 1}))
    with pytest.raises(ValueError, match="true or false"):
        _stream({"generator": g}, StreamOptions(extra={"compile": 1}))
