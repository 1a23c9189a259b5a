"""StyleGAN-V generator (spec §1): content mapping z → w (shared by a video's frames), motion v(t) from the
motion encoder, a StyleGAN2 ``skip`` synthesis network whose 4×4 input is [const ; v(t)] (``concat_const``).

Module names equal the official ``state_dict`` keys (golden README): ``mapping.*``,
``synthesis.motion_encoder.*``, ``synthesis.b{R}.{input.input.const, conv0, conv1, torgb, resample_filter}``.

The MoCoGAN+SG2 baseline (``cfg.arch == "mocogan"``) uses a plain 4×4 const (``synthesis.b4.input.const``),
an LSTM motion encoder and ``concat_w``: v(t) concatenated to w before every affine layer.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from .config import Config
from .layers import MappingNetwork, SynthesisLayer, ToRGBLayer, fp16_active, setup_filter, upsample2d
from .motion import LSTMMotionEncoder, MotionEncoder

__all__ = ["Generator", "SynthesisNetwork", "SynthesisBlock"]


class ConstInput(nn.Module):
    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.const = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, n: int) -> Tensor:
        return self.const.expand(n, -1, -1, -1)


class TemporalInput(nn.Module):
    """``concat_const``: the learned 4×4 constant (named ``input.const``) concatenated with v(t) broadcast
    over 4×4, constant first."""

    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.input = ConstInput(channels, size)

    def forward(self, n: int, v: Tensor) -> Tensor:
        const = self.input(n)
        vv = v.to(const.dtype)[:, :, None, None].expand(-1, -1, const.shape[2], const.shape[3])
        return torch.cat([const, vv], dim=1)


class SynthesisBlock(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        img_channels: int,
        conv_clamp: float | None,
        use_fp16: bool,
        const_extra: int = 0,
        affine_in: int | None = None,
        temporal_input: bool = True,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.resolution, self.use_fp16 = in_channels, resolution, use_fp16
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.register_buffer("resample_filter", setup_filter())
        if in_channels == 0:
            self.input: nn.Module = TemporalInput(out_channels) if temporal_input else ConstInput(out_channels)
            self.temporal_input = temporal_input
            self.num_conv = 1
        else:
            self.conv0 = SynthesisLayer(
                in_channels, out_channels, w_dim, up=2, conv_clamp=conv_clamp, affine_in=affine_in
            )
            self.num_conv = 2
        self.conv1 = SynthesisLayer(
            out_channels + (const_extra if in_channels == 0 else 0),
            out_channels,
            w_dim,
            conv_clamp=conv_clamp,
            affine_in=affine_in,
        )
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp, affine_in=affine_in)
        self.num_torgb = 1

    def forward(
        self, x: Tensor | None, img: Tensor | None, ws: Tensor, v: Tensor | None, record: dict | None = None
    ) -> tuple[Tensor, Tensor]:
        """ws: (N, num_conv + 1, w) for this block; v: (N, 2·dim) time embedding (b4 of concat_const)."""
        n = ws.shape[0]
        ref = ws
        fp16 = fp16_active(self.use_fp16, ref)
        dtype = torch.float16 if fp16 else torch.float32
        if torch.is_autocast_enabled(ref.device.type):
            dtype = torch.float32  # let autocast pick the conv precision
        w_iter = iter(ws.unbind(dim=1))
        if self.in_channels == 0:
            if self.temporal_input:
                x = self.input(n, v)
            else:
                x = self.input(n)
            x = x.to(dtype).contiguous(memory_format=self.memory_format)
            if record is not None:
                record[f"b{self.resolution}_input"] = x
                record[f"b{self.resolution}_conv1_styles"] = self.conv1.affine(ws[:, 0])
            x = self.conv1(x, next(w_iter), fp16=fp16)
        else:
            assert x is not None
            x = x.to(dtype=dtype, memory_format=self.memory_format)
            x = self.conv0(x, next(w_iter), fp16=fp16)
            x = self.conv1(x, next(w_iter), fp16=fp16)
        if img is not None:
            img = upsample2d(img, self.resample_filter.to(img.dtype))
        y = self.torgb(x, next(w_iter), fp16=fp16).to(torch.float32)
        img = img + y if img is not None else y
        if record is not None:
            record[f"b{self.resolution}_x"] = x
            record[f"b{self.resolution}_img"] = img
        return x, img


class SynthesisNetwork(nn.Module):
    def __init__(self, cfg: Config, img_resolution: int) -> None:
        super().__init__()
        self.cfg, self.img_resolution = cfg, img_resolution
        log2 = int(math.log2(img_resolution))
        if 2**log2 != img_resolution or img_resolution < 4:
            raise ValueError(f"styleganv: image resolution must be a power of two >= 4, got {img_resolution}")
        self.block_resolutions = [2**i for i in range(2, log2 + 1)]
        fp16_res = cfg.fp16_resolution(img_resolution)
        clamp = cfg.conv_clamp if cfg.conv_clamp > 0 else None
        mocogan = cfg.arch == "mocogan"
        if mocogan:
            self.motion_encoder: nn.Module = LSTMMotionEncoder(
                cfg.motion_z_dim, cfg.motion_v_dim, cfg.lstm_hidden, cfg.max_num_frames
            )
            v_dim = cfg.motion_v_dim
        else:
            self.motion_encoder = MotionEncoder(
                cfg.motion_z_dim,
                cfg.motion_v_dim,
                cfg.motion_kernel,
                cfg.delta,
                cfg.max_num_frames,
                cfg.time_enc_dim,
                cfg.min_period_len,
                cfg.max_period_len,
            )
            v_dim = 2 * cfg.time_enc_dim
        self.concat_w = mocogan
        self.num_ws = 0
        for res in self.block_resolutions:
            in_ch = cfg.g_channels(res // 2) if res > 4 else 0
            out_ch = cfg.g_channels(res)
            block = SynthesisBlock(
                in_ch,
                out_ch,
                cfg.w_dim,
                res,
                cfg.img_channels,
                clamp,
                use_fp16=res >= fp16_res,
                const_extra=0 if mocogan else v_dim,
                affine_in=cfg.w_dim + v_dim if mocogan else None,
                temporal_input=not mocogan,
                channels_last=cfg.channels_last,
            )
            self.num_ws += block.num_conv
            setattr(self, f"b{res}", block)
        self.num_ws += 1  # the last toRGB

    def forward(
        self,
        ws: Tensor,
        t: Tensor,
        motion_z: Tensor | None = None,
        generator: torch.Generator | None = None,
        record: dict | None = None,
    ) -> Tensor:
        """ws (B, num_ws, w_dim), t (B, F) → frames (B·F, C, R, R), video-major, unclamped."""
        b, nf = t.shape
        mot = self.motion_encoder(t, motion_z=motion_z, generator=generator)
        v = mot["motion_v"]
        if record is not None:
            record.update(mot)
        ws = ws.repeat_interleave(nf, dim=0)  # (B·F, num_ws, w)
        if self.concat_w:
            ws = torch.cat([ws, v.to(ws.dtype)[:, None, :].expand(-1, ws.shape[1], -1)], dim=2)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            x, img = block(x, img, ws[:, w_idx : w_idx + block.num_conv + block.num_torgb], v, record)
            w_idx += block.num_conv
        assert img is not None
        return img


class Generator(nn.Module):
    """``G(z, t, motion_z=None, truncation_psi=1)`` → frames (B·F, C, R, R) video-major (official call order:
    mapping, then synthesis). State dict order: synthesis (motion encoder, b4 … bR), then mapping."""

    def __init__(self, cfg: Config, img_resolution: int) -> None:
        super().__init__()
        self.cfg, self.img_resolution = cfg, img_resolution
        self.z_dim, self.w_dim, self.img_channels = cfg.z_dim, cfg.w_dim, cfg.img_channels
        self.synthesis = SynthesisNetwork(cfg, img_resolution)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            cfg.z_dim, 0, cfg.w_dim, self.num_ws, num_layers=cfg.mapping_layers, w_avg_beta=cfg.w_avg_beta
        )

    @property
    def motion_encoder(self) -> nn.Module:
        return self.synthesis.motion_encoder

    def forward(
        self,
        z: Tensor,
        t: Tensor,
        motion_z: Tensor | None = None,
        truncation_psi: float = 1.0,
        generator: torch.Generator | None = None,
        update_w_avg: bool | None = None,
        record: dict | None = None,
    ) -> Tensor:
        ws = self.mapping(z, None, truncation_psi=truncation_psi, update_w_avg=update_w_avg)
        if record is not None:
            record["ws"] = ws
        return self.synthesis(ws, t, motion_z=motion_z, generator=generator, record=record)

    def extra_info(self) -> dict[str, Any]:
        return {"num_ws": self.num_ws, "resolution": self.img_resolution}
