"""StyleGAN-V discriminator (spec §2): per-frame StyleGAN2 ResNet blocks down to ``concat_res`` (16²), frames
concatenated along channels (frame-major), video-level blocks, epilogue (mbstd, conv, FC, out) and a projection
with the conditioning map of the time gaps (``TemporalDifferenceEncoder``).

Official names: ``time_encoder.{const_embed.weight, time_encoder.fourier_coefs}``, ``b{R}.{fromrgb, conv0,
conv1, skip, resample_filter}``, ``mapping.{embed, fc0, fc1}``, ``b4.{conv, fc, out}``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .config import Config
from .layers import (
    Conv2dLayer,
    FullyConnectedLayer,
    MappingNetwork,
    MinibatchStdLayer,
    fp16_active,
    fp32_region,
    setup_filter,
)

__all__ = ["Discriminator", "DiscriminatorBlock", "DiscriminatorEpilogue", "TemporalDifferenceEncoder"]


class FixedTimeEncoder(nn.Module):
    """Fourier features of a time gap: ω_k = π·2^k / T_res (buffer ``fourier_coefs``, shape (1, n))."""

    def __init__(self, max_num_frames: int, skip_small_t_freqs: int = 0) -> None:
        super().__init__()
        t_res = 2 ** int(math.ceil(math.log2(max_num_frames)))
        n = int(math.ceil(math.log2(t_res))) - skip_small_t_freqs
        coefs = torch.tensor([math.pi * 2.0**k / t_res for k in range(n)], dtype=torch.float64)
        self.register_buffer("fourier_coefs", coefs.float().unsqueeze(0))

    def get_dim(self) -> int:
        return 2 * self.fourier_coefs.shape[1]

    def forward(self, d: Tensor) -> Tensor:
        x = d.to(torch.float32).reshape(-1, 1) * self.fourier_coefs
        return torch.cat([x.sin(), x.cos()], dim=1)


class TemporalDifferenceEncoder(nn.Module):
    """Per consecutive gap Δ: [Embedding(max_num_frames, 256)[round_half_even(Δ)] ; sin/cos(ω Δ)] (276-d),
    flattened per video (F − 1 gaps)."""

    def __init__(self, max_num_frames: int, embed_dim: int = 256) -> None:
        super().__init__()
        self.max_num_frames = max_num_frames
        self.const_embed = nn.Embedding(max_num_frames, embed_dim)
        self.time_encoder = FixedTimeEncoder(max_num_frames)

    def get_dim(self, num_frames: int) -> int:
        return (num_frames - 1) * (self.const_embed.embedding_dim + self.time_encoder.get_dim())

    def forward(self, t: Tensor) -> Tensor:
        b, nf = t.shape
        if nf < 2:
            raise ValueError("styleganv D: the time-difference encoder needs >= 2 frames per video")
        d = t[:, 1:] - t[:, :-1]  # (B, F-1) in t's dtype (int64 reals, float fakes)
        idx = torch.round(d.to(torch.float64)).long() if d.is_floating_point() else d.long()
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.max_num_frames):
            raise ValueError(
                f"styleganv D: time gaps must lie in [0, {self.max_num_frames - 1}] (frames sorted by time); "
                f"got {d.tolist()}"
            )
        emb = self.const_embed(idx.reshape(-1))  # (B·(F-1), 256)
        four = self.time_encoder(d.reshape(-1))  # (B·(F-1), 20)
        return torch.cat([emb, four], dim=1).reshape(b, -1)


class DiscriminatorBlock(nn.Module):
    """ResNet D block: (fromRGB on the top block) conv0 3×3, conv1 3×3 ↓2, skip 1×1 ↓2 (no bias);
    out = (skip(x) + conv1(conv0(x))) · √0.5."""

    def __init__(
        self,
        in_channels: int,
        tmp_channels: int,
        out_channels: int,
        resolution: int,
        img_channels: int,
        conv_clamp: float | None,
        use_fp16: bool,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.resolution, self.use_fp16 = in_channels, resolution, use_fp16
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.register_buffer("resample_filter", setup_filter())
        if in_channels == 0:
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation="lrelu", conv_clamp=conv_clamp)
        first = in_channels or tmp_channels
        self.conv0 = Conv2dLayer(first, tmp_channels, 3, activation="lrelu", conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation="lrelu", down=2, conv_clamp=conv_clamp)
        self.skip = Conv2dLayer(first, out_channels, 1, bias=False, down=2)

    def forward(self, x: Tensor | None, img: Tensor | None) -> Tensor:
        ref = x if x is not None else img
        assert ref is not None
        fp16 = fp16_active(self.use_fp16, ref) and not torch.is_autocast_enabled(ref.device.type)
        dtype = torch.float16 if fp16 else torch.float32
        if self.in_channels == 0:
            assert img is not None
            x = self.fromrgb(img.to(dtype=dtype, memory_format=self.memory_format))
        else:
            assert x is not None
            x = x.to(dtype=dtype, memory_format=self.memory_format)
        g = math.sqrt(0.5)
        y = self.skip(x, gain=g)
        x = self.conv0(x)
        x = self.conv1(x, gain=g)
        return y + x


class DiscriminatorEpilogue(nn.Module):
    """mbstd (strided groups over videos) → conv 3×3 → FC lrelu → FC out; projection with cmap."""

    def __init__(
        self,
        in_channels: int,
        cmap_dim: int,
        resolution: int,
        mbstd_group_size: int,
        mbstd_num_channels: int,
        conv_clamp: float | None,
        adaptive_mbstd: bool = False,
    ) -> None:
        super().__init__()
        self.cmap_dim = cmap_dim
        self.mbstd = (
            MinibatchStdLayer(mbstd_group_size, mbstd_num_channels, adaptive_mbstd) if mbstd_num_channels > 0 else None
        )
        self.conv = Conv2dLayer(
            in_channels + mbstd_num_channels, in_channels, 3, activation="lrelu", conv_clamp=conv_clamp
        )
        self.fc = FullyConnectedLayer(in_channels * resolution * resolution, in_channels, activation="lrelu")
        self.out = FullyConnectedLayer(in_channels, cmap_dim if cmap_dim > 0 else 1)

    def forward(self, x: Tensor, cmap: Tensor | None, record: dict | None = None) -> Tensor:
        with fp32_region(x):
            return self._forward(x, cmap, record)

    def _forward(self, x: Tensor, cmap: Tensor | None, record: dict | None) -> Tensor:
        x = x.to(torch.float32)
        if self.mbstd is not None:
            x = self.mbstd(x)
        if record is not None:
            record["epilogue_mbstd"] = x
        x = self.conv(x)
        x = self.fc(x.flatten(1))
        x = self.out(x)
        if record is not None:
            record["epilogue_out"] = x
        if self.cmap_dim > 0:
            assert cmap is not None
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x


class Discriminator(nn.Module):
    """``D(img (B·F, C, R, R) video-major, t (B, F))`` → one logit per video (B,).

    ``time_conditioning=False`` (MoCoGAN+SG2 image D): no time encoder, no concat, no projection: one logit
    per frame (B·F,)."""

    def __init__(self, cfg: Config, img_resolution: int, num_frames: int, time_conditioning: bool = True) -> None:
        super().__init__()
        self.cfg, self.img_resolution, self.num_frames = cfg, img_resolution, num_frames
        self.time_conditioning = time_conditioning
        log2 = int(math.log2(img_resolution))
        if 2**log2 != img_resolution or img_resolution < 8:
            raise ValueError(f"styleganv D: resolution must be a power of two >= 8, got {img_resolution}")
        self.block_resolutions = [2**i for i in range(log2, 2, -1)]
        clamp = cfg.conv_clamp if cfg.conv_clamp > 0 else None
        fp16_res = cfg.fp16_resolution(img_resolution)
        concat_res = cfg.concat_res if time_conditioning else -1
        if time_conditioning:
            if not 4 < concat_res < img_resolution:
                raise ValueError(f"styleganv D: concat_res must lie in (4, {img_resolution}), got {concat_res}")
            self.time_encoder = TemporalDifferenceEncoder(cfg.max_num_frames)
        div = cfg.num_frames_div_factor
        for res in self.block_resolutions:
            in_ch = cfg.d_channels(res) if res < img_resolution else 0
            tmp_ch = cfg.d_channels(res)
            out_ch = cfg.d_channels(res // 2)
            if res // 2 == concat_res:
                out_ch = out_ch // div
            if res == concat_res:
                in_ch = (cfg.d_channels(res) // div) * num_frames
            block = DiscriminatorBlock(
                in_ch,
                tmp_ch,
                out_ch,
                res,
                cfg.img_channels,
                clamp,
                use_fp16=res >= fp16_res,
                channels_last=cfg.channels_last,
            )
            setattr(self, f"b{res}", block)
        cmap_dim = cfg.d_channels(4) if time_conditioning else 0
        if time_conditioning:
            self.mapping = MappingNetwork(
                0,
                self.time_encoder.get_dim(num_frames),
                cmap_dim,
                num_ws=None,
                num_layers=cfg.d_mapping_layers,
                w_avg_beta=None,
            )
        self.b4 = DiscriminatorEpilogue(
            cfg.d_channels(4),
            cmap_dim,
            4,
            cfg.mbstd_group_size,
            cfg.mbstd_num_channels,
            clamp,
            adaptive_mbstd=not time_conditioning,
        )

    def forward(self, img: Tensor, t: Tensor | None = None, record: dict | None = None) -> Tensor:
        cmap = None
        if self.time_conditioning:
            if t is None or t.ndim != 2 or t.shape[0] * t.shape[1] != img.shape[0]:
                raise ValueError(
                    f"styleganv D: t must be (videos, frames) matching {img.shape[0]} frames, got "
                    f"{None if t is None else tuple(t.shape)}"
                )
            if t.shape[1] != self.num_frames:
                raise ValueError(f"styleganv D: built for {self.num_frames} frames per video, got {t.shape[1]}")
            with fp32_region(img):
                t_embs = self.time_encoder(t.to(img.device))
                cmap = self.mapping(None, t_embs)
            if record is not None:
                record["t_embs"], record["cmap"] = t_embs, cmap
        x = None
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            if self.time_conditioning and res == self.cfg.concat_res:
                assert x is not None and t is not None
                if record is not None:
                    record[f"b{res * 2}_x"] = x
                x = x.reshape(t.shape[0], -1, *x.shape[2:])
            x = block(x, img if res == self.img_resolution else None)
            if record is not None and res <= self.cfg.concat_res:
                record[f"b{res}_x"] = x
        assert x is not None
        out = self.b4(x, cmap, record)
        return out.squeeze(1)
