"""StyleGAN-V motion: motion noise → codes u_k every δ frames → continuous acyclic time embedding v(t).

Spec §1.3–§1.5 and the golden README "Inputs: what t and motion_z mean". Official names:
``synthesis.motion_encoder.{time_encoder.*, conv.{0,1}.*}``.

* :class:`MotionEncoder` (``gen_strategy: conv``): two padding-less equalized-LR Conv1d (k = 11, lr-mult 0.01)
  each followed by a plain leaky ReLU (0.2, **no** √2 gain); u_k depends on noise positions k…k+20 only, so a
  longer noise sequence gives the same leading codes (chunked generation relies on it).
* :class:`AlignedTimeEncoder`: per-segment frequency multiplier and phase from u_left, sin/cos at t minus their
  lerp between the two anchors, plus the lerp of the learned aligners.
* :class:`LSTMMotionEncoder` (MoCoGAN+SG2, ``gen_strategy: autoregressive``): an LSTM over the noise, one code
  per frame (δ = 1), then a motion MLP (2 FC, lrelu, lr-mult 0.01) → v.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import FullyConnectedLayer, fp32_region

__all__ = ["EqConv1d", "AlignedTimeEncoder", "MotionEncoder", "LSTMMotionEncoder", "trajectory_length", "check_times"]


def check_times(t: Tensor) -> None:
    """Frame times must be finite and >= 0 (the official code silently indexes the last code for t < 0)."""
    if t.ndim != 2:
        raise ValueError(f"styleganv: t must have shape (videos, frames), got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError("styleganv: frame times must be finite")
    if t.numel() and float(t.min()) < 0:
        raise ValueError(
            f"styleganv: frame times must be >= 0 (got min t = {float(t.min())}); the motion codes are anchored "
            "at t = 0, 16, 32, ... and negative times have no code"
        )


def trajectory_length(max_t: float, max_num_frames: int, delta: int) -> int:
    """L = ceil(max(max_num_frames - 1, max t) / δ) + 2 motion codes (batch-wide max t)."""
    return int(math.ceil(max(max_num_frames - 1, max_t) / delta)) + 2


class EqConv1d(nn.Module):
    """Equalized-LR Conv1d without padding: weight stored × 1/lr_mult, scaled by lr_mult/√(in·k)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, lr_multiplier: float = 0.01) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size) / lr_multiplier)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = lr_multiplier / math.sqrt(in_channels * kernel_size)
        self.bias_gain = lr_multiplier

    def forward(self, x: Tensor) -> Tensor:
        return F.conv1d(x, self.weight.to(x.dtype) * self.weight_gain, self.bias.to(x.dtype) * self.bias_gain)


class AlignedTimeEncoder(nn.Module):
    """v(t) = e(t) − lerp(e(t_l), e(t_r), α) + lerp(A u_l, A u_r, α), e(s) = [sin θ(s), cos θ(s)],
    θ(s) = ω·a·s + φ·phase_scale, a = tanh(W_p u_l) + 1, φ = W_φ u_l (buffers ``freqs``, ``phase_scales``)."""

    def __init__(self, dim: int, v_dim: int, min_period_len: int, max_period_len: int) -> None:
        super().__init__()
        periods = 2.0 ** torch.linspace(math.log2(min_period_len), math.log2(max_period_len), dim, dtype=torch.float64)
        freqs = (2 * math.pi / periods).flip(0)  # low -> high
        self.register_buffer("freqs", freqs.float().unsqueeze(0))
        self.register_buffer("phase_scales", (max_period_len * self.freqs / (2 * math.pi)).float())
        self.periods_predictor = FullyConnectedLayer(v_dim, dim, bias=False)
        self.phase_predictor = FullyConnectedLayer(v_dim, dim, bias=False)
        self.aligners_predictor = FullyConnectedLayer(v_dim, 2 * dim, bias=False)
        self.dim = dim

    def get_dim(self) -> int:
        return 2 * self.dim

    def forward(
        self, t: Tensor, u_left: Tensor, u_right: Tensor, t_left: Tensor, t_right: Tensor, alpha: Tensor
    ) -> Tensor:
        """All inputs flattened per frame: t, t_left, t_right, alpha (N, 1); u_left/u_right (N, V)."""
        a = torch.tanh(self.periods_predictor(u_left)) + 1.0
        phi = self.phase_predictor(u_left)
        freqs = self.freqs * a
        shift = phi * self.phase_scales

        def emb(s: Tensor) -> Tensor:
            th = freqs * s + shift
            return torch.cat([th.sin(), th.cos()], dim=1)

        e_t, e_l, e_r = emb(t), emb(t_left), emb(t_right)
        al = self.aligners_predictor(u_left)
        ar = self.aligners_predictor(u_right)
        return e_t - (e_l * (1 - alpha) + e_r * alpha) + (al * (1 - alpha) + ar * alpha)


class MotionEncoder(nn.Module):
    """Motion noise (B, ≥ L + 20, Z) → codes u (B, L, V) → v(t) per frame (B·F, 2·dim), video-major."""

    def __init__(
        self,
        z_dim: int,
        v_dim: int,
        kernel_size: int,
        delta: int,
        max_num_frames: int,
        time_enc_dim: int,
        min_period_len: int,
        max_period_len: int,
    ) -> None:
        super().__init__()
        self.z_dim, self.v_dim, self.delta, self.max_num_frames = z_dim, v_dim, delta, max_num_frames
        self.extra = 2 * (kernel_size - 1)  # positions eaten by the two padding-less convs
        self.time_encoder = AlignedTimeEncoder(time_enc_dim, v_dim, min_period_len, max_period_len)
        self.conv = nn.ModuleList([EqConv1d(z_dim, v_dim, kernel_size), EqConv1d(v_dim, v_dim, kernel_size)])

    def noise_length(self, max_t: float) -> int:
        return trajectory_length(max_t, self.max_num_frames, self.delta) + self.extra

    def draw_noise(self, batch: int, max_t: float, generator: torch.Generator | None = None, device=None) -> Tensor:
        dev = generator.device if generator is not None else device
        z = torch.randn(batch, self.noise_length(max_t), self.z_dim, generator=generator, device=dev)
        return z.to(device) if device is not None else z

    def codes(self, motion_z: Tensor, length: int) -> Tensor:
        x = motion_z[:, : length + self.extra].transpose(1, 2)  # (B, Z, L + 20)
        for layer in self.conv:
            x = F.leaky_relu(layer(x), 0.2)
        return x.transpose(1, 2)  # (B, L, V)

    def forward(self, t: Tensor, motion_z: Tensor | None = None, generator: torch.Generator | None = None) -> dict:
        with fp32_region(self.conv[0].weight):
            return self._forward(t, motion_z, generator)

    def _forward(self, t: Tensor, motion_z: Tensor | None, generator: torch.Generator | None) -> dict:
        check_times(t)
        b, nf = t.shape
        max_t = float(t.max()) if t.numel() else 0.0
        length = trajectory_length(max_t, self.max_num_frames, self.delta)
        w = self.conv[0].weight
        if motion_z is None:
            motion_z = self.draw_noise(b, max_t, generator, device=w.device)
        if motion_z.shape[0] != b or motion_z.shape[1] < length + self.extra or motion_z.shape[2] != self.z_dim:
            raise ValueError(
                f"styleganv: motion_z must have shape ({b}, >= {length + self.extra}, {self.z_dim}) for max t = "
                f"{max_t}, got {tuple(motion_z.shape)}"
            )
        dtype = torch.float32
        u = self.codes(motion_z.to(w.device, dtype), length)
        tf = t.to(w.device, torch.float32)
        idx = torch.div(tf, self.delta, rounding_mode="floor").long()  # (B, F)
        t_left = tf - torch.remainder(tf, self.delta)
        t_right = t_left + self.delta
        alpha = (torch.remainder(tf, self.delta) / self.delta).unsqueeze(-1)  # (B, F, 1)
        bi = torch.arange(b, device=w.device)[:, None]
        u_left, u_right = u[bi, idx], u[bi, idx + 1]  # (B, F, V)
        n = b * nf
        v = self.time_encoder(
            tf.reshape(n, 1),
            u_left.reshape(n, -1),
            u_right.reshape(n, -1),
            t_left.reshape(n, 1),
            t_right.reshape(n, 1),
            alpha.reshape(n, 1),
        )
        return {
            "motion_v": v,
            "motion_u_traj": u,
            "motion_u_left": u_left,
            "motion_u_right": u_right,
            "t_left": t_left,
            "t_right": t_right,
            "interp_weights": alpha,
            "motion_z": motion_z,
        }


class LSTMMotionEncoder(nn.Module):
    """MoCoGAN+SG2 motion (spec §3): LSTM (hidden ``hidden``) over N(0, 1) noise, one code per frame, then a
    2-layer lrelu MLP (lr-mult 0.01) → v (B·F, v_dim). Fractional times are floored (use_fractional_t false)."""

    def __init__(self, z_dim: int, v_dim: int, hidden: int, max_num_frames: int) -> None:
        super().__init__()
        self.z_dim, self.v_dim, self.delta, self.max_num_frames, self.extra = z_dim, v_dim, 1, max_num_frames, 0
        self.rnn = nn.LSTM(z_dim, hidden, num_layers=1, batch_first=True)
        self.mlp0 = FullyConnectedLayer(hidden, v_dim, activation="lrelu", lr_multiplier=0.01)
        self.mlp1 = FullyConnectedLayer(v_dim, v_dim, activation="lrelu", lr_multiplier=0.01)

    def noise_length(self, max_t: float) -> int:
        # codes are only needed up to the last frame: the LSTM is causal, so a longer run gives the same prefix
        return int(math.floor(max_t)) + 2

    def draw_noise(self, batch: int, max_t: float, generator: torch.Generator | None = None, device=None) -> Tensor:
        dev = generator.device if generator is not None else device
        z = torch.randn(batch, self.noise_length(max_t), self.z_dim, generator=generator, device=dev)
        return z.to(device) if device is not None else z

    def forward(self, t: Tensor, motion_z: Tensor | None = None, generator: torch.Generator | None = None) -> dict:
        with fp32_region(self.mlp0.weight):
            return self._forward(t, motion_z, generator)

    def _forward(self, t: Tensor, motion_z: Tensor | None, generator: torch.Generator | None) -> dict:
        check_times(t)
        b, nf = t.shape
        max_t = float(t.max()) if t.numel() else 0.0
        length = self.noise_length(max_t)
        w = self.mlp0.weight
        if motion_z is None:
            motion_z = self.draw_noise(b, max_t, generator, device=w.device)
        if motion_z.shape[0] != b or motion_z.shape[1] < length or motion_z.shape[2] != self.z_dim:
            raise ValueError(
                f"styleganv(mocogan): motion_z must have shape ({b}, >= {length}, {self.z_dim}), got "
                f"{tuple(motion_z.shape)}"
            )
        u, _ = self.rnn(motion_z[:, :length].to(w.device, torch.float32))  # (B, L, H)
        idx = torch.floor(t.to(w.device, torch.float32)).long()
        bi = torch.arange(b, device=w.device)[:, None]
        code = u[bi, idx].reshape(b * nf, -1)
        v = self.mlp1(self.mlp0(code))
        return {"motion_v": v, "motion_u_traj": u, "motion_z": motion_z}
