"""TGANv2 generator: z -> FC -> ConvLSTM -> per-frame 2D ResNet "Up" blocks -> 4 render heads.

Spec ``shared/specs/tganv2.md`` §1 (official ``MultiTGANCLSTMGenerator``, pfnet-research/tgan2 @ f892bc4).

Training ("train sparsely"): ``levels(z, offsets)`` returns 4 float videos (N_l, C, T_l, S_l, S_l) in
[-1, 1]: level 1 = all T frames at side t*2**n_pre, each next level doubles the side after keeping every
s-th frame (offset shared by the batch) and optionally every b-th batch item.
Inference ("generate densely"): ``dense(z, n_frames)`` runs every frame through every block and renders
only the last head: (N, C, T, S, S).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import Config

__all__ = ["TGANv2Generator", "ConvLSTMCell", "GenBlock", "Render"]


def _lecun_normal_(weight: Tensor) -> None:
    """Chainer's default initialiser LeCunNormal: N(0, 1/fan_in) (spec §1.8)."""
    fan_in = weight[0].numel()
    nn.init.normal_(weight, 0.0, 1.0 / math.sqrt(fan_in))


class ConvLSTMCell(nn.Module):
    """ConvLSTM cell without peepholes. x, h: (N, C_in, t, t), (N, C, t, t).

    Chainer keys: ``w_xifoc`` (input conv, bias) and ``w_hifoc`` (hidden conv, no bias); gate order of the
    4C output channels is i, f, o, g (spec §1.2 step 4).
    """

    def __init__(self, in_ch: int, ch: int) -> None:
        super().__init__()
        self.ch = ch
        self.w_xifoc = nn.Conv2d(in_ch, 4 * ch, 3, padding=1, bias=True)
        self.w_hifoc = nn.Conv2d(ch, 4 * ch, 3, padding=1, bias=False)
        _lecun_normal_(self.w_xifoc.weight)
        _lecun_normal_(self.w_hifoc.weight)
        nn.init.zeros_(self.w_xifoc.bias)

    def autocast_hidden_weight(self) -> Tensor | None:
        """The hidden conv's weight in the CPU autocast dtype, cast once for a whole sequence (pass it to
        ``forward`` as ``w_h``); None outside CPU autocast. Autocast caches its own casts of module weights, not
        this explicit one: cast per step it was ~60 copies of a 2.4M-entry weight per port-preset iteration."""
        if torch.is_autocast_enabled("cpu") and self.w_hifoc.weight.device.type == "cpu":
            return self.w_hifoc.weight.to(torch.get_autocast_dtype("cpu"))
        return None

    def forward(
        self, x: Tensor | None, h: Tensor | None, c: Tensor | None, w_h: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        gates = None
        if x is not None:
            gates = self.w_xifoc(x)
        else:  # a zero input still contributes the input conv's bias
            gates = self.w_xifoc.bias.view(1, -1, 1, 1)
        if h is not None:
            gates = gates + _hidden_conv(h, self.w_hifoc, w_h)
        i, f, o, g = torch.chunk(gates, 4, dim=1)
        i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.tanh(g)
        c_new = i * g if c is None else f * c + i * g
        h_new = o * torch.tanh(c_new)
        return h_new, c_new


class _SmallMapConv(torch.autograd.Function):
    """3x3, padding 1, no bias conv2d whose weight gradient is one matmul over ``unfold``ed inputs.

    For the ConvLSTM's tiny maps (4x4, 256 -> 1,024 channels) oneDNN's combined backward is slow; input
    gradient by oneDNN + weight gradient by unfold/matmul: the port preset's whole G forward + backward 406 ->
    383 ms at batch 8 and 1,393 -> 1,332 ms at batch 32 (2 threads, fp32, alternating in one process; weight
    gradients equal to 5e-7 relative). In bf16 the forward and the input gradient are matmuls too (below).
    First-order only (the generator needs no double backward)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor) -> Tensor:  # type: ignore[override]
        if x.dtype != torch.bfloat16:
            ctx.save_for_backward(x, weight, None)
            return F.conv2d(x, weight, None, 1, 1)
        # bf16: one (N*H*W, C*9) x (C*9, O) matmul over unfolded columns, 1.3-1.6x faster than oneDNN's bf16
        # conv at 4x4 maps (batch 8 and 32); the columns are kept for the weight gradient. With the input
        # gradient as matmul + fold too, the port preset's bf16 G phase went 0.27-0.29 -> 0.25-0.27 s at batch 8
        # and 0.76-0.80 -> 0.67-0.73 s at batch 32 (2 threads, alternating in one process).
        n, _, h, w = x.shape
        o = weight.shape[0]
        cols = F.unfold(x, 3, padding=1).transpose(1, 2).reshape(n * h * w, -1)
        ctx.save_for_backward(None, weight, cols)  # both gradients come from the columns: x is not kept
        y = cols @ weight.reshape(o, -1).t()
        return y.view(n, h * w, o).transpose(1, 2).reshape(n, o, h, w)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:  # type: ignore[override]
        x, weight, cols = ctx.saved_tensors
        gx = gw = None
        if ctx.needs_input_grad[0] and cols is not None:  # bf16: matmul + fold (col2im), as the forward
            n, o, h, w = grad.shape
            gmat = grad.flatten(2).transpose(1, 2).reshape(n * h * w, o)
            gcols = (gmat @ weight.reshape(o, -1)).view(n, h * w, -1).transpose(1, 2)
            gx = F.fold(gcols, (h, w), 3, padding=1)
        elif ctx.needs_input_grad[0]:
            gx = torch.ops.aten.convolution_backward(
                grad, x, weight, None, (1,), (1,), (1,), False, (0,), 1, (True, False, False)
            )[0]
        if ctx.needs_input_grad[1]:
            o = grad.shape[1]
            if cols is None:
                cols = F.unfold(x, 3, padding=1)  # (N, C*9, H*W), columns in the weight's (C, kh, kw) order
                cols = cols.transpose(1, 2).reshape(-1, cols.shape[1])
            gw = grad.flatten(2).transpose(0, 1).reshape(o, -1) @ cols
            gw = gw.view_as(weight)
        return gx, gw


def _hidden_conv(h: Tensor, conv: nn.Conv2d, weight: Tensor | None = None) -> Tensor:
    """The ConvLSTM's hidden-state conv: ``_SmallMapConv`` for CPU maps up to 8x8, else the module.

    Under CPU autocast both operands are cast to the autocast dtype first (what autocast does for a conv), so
    the weight gradient is a bf16 matmul: G forward + backward 649 -> 541 ms at batch 32, 215 -> 205 ms at
    batch 8 (port preset, bf16, 2 threads; weight gradient within 0.24 % of the module's). ``weight``: the
    weight already cast (``ConvLSTMCell.autocast_hidden_weight``)."""
    small = h.device.type == "cpu" and h.shape[-1] * h.shape[-2] <= 64 and h.is_floating_point()
    shape = conv.kernel_size == (3, 3) and conv.padding == (1, 1) and conv.stride == (1, 1) and conv.groups == 1
    if not (small and shape and conv.bias is None):
        return conv(h)
    if torch.is_autocast_enabled("cpu"):
        dtype = torch.get_autocast_dtype("cpu")
        with torch.autocast("cpu", enabled=False):
            w = weight if weight is not None and weight.dtype == dtype else conv.weight.to(dtype)
            return _SmallMapConv.apply(h.to(dtype), w)
    return _SmallMapConv.apply(h, conv.weight)


def _bn(ch: int, eps: float, momentum: float) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=eps, momentum=momentum)


class GenBlock(nn.Module):
    """Up block on frames (M, C_in, H, W) -> (M, C_out, 2H, 2W) (spec §1.3).

    residual: BN -> ReLU -> nearest x2 -> conv3 -> BN -> ReLU -> conv3; shortcut: nearest x2 -> conv1.
    """

    def __init__(self, in_ch: int, out_ch: int, bn_eps: float = 2e-5, bn_momentum: float = 0.1) -> None:
        """in_ch/out_ch: channels; bn_eps/bn_momentum: Chainer BN defaults (eps 2e-5, decay 0.9)."""
        super().__init__()
        self.b1 = _bn(in_ch, bn_eps, bn_momentum)
        self.c1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.b2 = _bn(out_ch, bn_eps, bn_momentum)
        self.c2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.c_sc = nn.Conv2d(in_ch, out_ch, 1)
        # Chainer GlorotUniform(sqrt 2) on the 3x3 convs, GlorotUniform(1) on the shortcut, zero biases
        nn.init.xavier_uniform_(self.c1.weight, math.sqrt(2))
        nn.init.xavier_uniform_(self.c2.weight, math.sqrt(2))
        nn.init.xavier_uniform_(self.c_sc.weight, 1.0)
        for conv in (self.c1, self.c2, self.c_sc):
            nn.init.zeros_(conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.b1(x))
        if torch.is_autocast_enabled(h.device.type):  # cast before the 4x larger nearest upsampling (the same
            h = h.to(torch.get_autocast_dtype(h.device.type))  # values: nearest copies commute with the cast)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.c2(F.relu(self.b2(self.c1(h))))
        # a 1x1 conv commutes with nearest upsampling: run it at low resolution (4x cheaper, same maths)
        return h + F.interpolate(self.c_sc(x), scale_factor=2, mode="nearest")


class Render(nn.Module):
    """Render head (M, C, H, W) -> (M, out, H, W) in [-1, 1]: BN -> ReLU -> conv3 -> tanh (spec §1.4)."""

    def __init__(self, in_ch: int, out_ch: int, bn_eps: float = 2e-5, bn_momentum: float = 0.1) -> None:
        super().__init__()
        self.bn = _bn(in_ch, bn_eps, bn_momentum)
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        _lecun_normal_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.conv(F.relu(self.bn(x))))


def _frame_layout(h: Tensor) -> Tensor:
    """The per-frame ResNet's layout: channels_last on CPU, where oneDNN's convolutions, BN and nearest
    upsampling run faster in it (the port preset's G forward + backward: 1.58 -> 1.40 s at batch 32, 0.46 ->
    0.40 s at batch 8, 2 threads); values differ from NCHW only by summation order."""
    return h.contiguous(memory_format=torch.channels_last) if h.device.type == "cpu" else h


def _to_video(frames: Tensor, n: int) -> Tensor:
    """(N*T, C, H, W) batch-major -> (N, C, T, H, W)."""
    m, c, h, w = frames.shape
    return frames.view(n, m // n, c, h, w).transpose(1, 2)


class TGANv2Generator(nn.Module):
    """Multi-level TGANv2 generator. Module names map one-to-one to the Chainer keys (``convert.py``):
    ``fc`` = ``fc``, ``clstm.{i}`` = ``decoder{i}``, ``blocks.{k-1}`` = ``block{k}``,
    ``renders.{l}.bn`` / ``.conv`` = ``b{n_pre+l}`` / ``c{n_pre+l}``.
    """

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        t, cc = cfg.t_size, cfg.clstm_ch
        self.fc = nn.Linear(cfg.z_slow_dim, cc * t * t)
        _lecun_normal_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        self.clstm = nn.ModuleList(ConvLSTMCell(cc, cc) for _ in range(cfg.n_layers))
        pre = [cfg.ch * 4 * 2 ** (cfg.n_pre_blocks - 1 - i) for i in range(cfg.n_pre_blocks)]
        widths = [cc, *pre, cfg.ch * 2, cfg.ch, cfg.ch]
        bn = (cfg.bn_eps, cfg.bn_momentum)
        self.blocks = nn.ModuleList(GenBlock(a, b, *bn) for a, b in zip(widths[:-1], widths[1:]))
        self.renders = nn.ModuleList(Render(w, cfg.out_channels, *bn) for w in widths[cfg.n_pre_blocks :])

    # ---------------------------------------------------------------- shared parts
    def frames(self, z: Tensor, n_frames: int | None = None) -> Tensor:
        """z (N, z_dim) -> ConvLSTM outputs (N*T, clstm_ch, t, t), batch-major (row n*T + t)."""
        n, t = z.shape[0], self.cfg.t_size
        n_frames = n_frames or self.cfg.n_frames
        x0 = self.fc(z).view(n, self.cfg.clstm_ch, t, t)  # channel-major reshape as in Chainer
        hs = [None] * len(self.clstm)
        cs = [None] * len(self.clstm)
        out = []
        w_hs = [cell.autocast_hidden_weight() for cell in self.clstm]
        for step in range(n_frames):
            x = x0 if step == 0 else None  # z only at t = 0, zeros afterwards (spec §1.2 step 3)
            for k, cell in enumerate(self.clstm):
                hs[k], cs[k] = cell(x, hs[k], cs[k], w_hs[k])
                x = hs[k]
            if x is None:  # pragma: no cover - n_layers >= 1
                raise RuntimeError("ConvLSTM produced no output")
            out.append(x)
        return torch.stack(out, dim=1).flatten(0, 1)

    def draw_offsets(self, generator: torch.Generator | None = None, device: torch.device | None = None) -> list[int]:
        """One frame offset per subsampling layer, o ~ U{0..s-1}, shared by the batch (spec §1.5)."""
        return [
            int(torch.randint(0, s, (1,), generator=generator, device=device).item()) for s in self.cfg.subsample_frame
        ]

    # ---------------------------------------------------------------- training: sparse levels
    def levels(
        self, z: Tensor, offsets: Sequence[int] | None = None, generator: torch.Generator | None = None
    ) -> list[Tensor]:
        """z (N, z_dim) -> [x1, x2, x3, x4], x_l (N_l, C, T_l, S_l, S_l) float in [-1, 1].

        ``offsets``: the 3 frame offsets (default: drawn from ``generator``). Batch items ``::b`` are kept
        per level when ``subsample_batch`` > 1.
        """
        cfg = self.cfg
        if offsets is None:
            offsets = self.draw_offsets(generator, z.device if generator is None else generator.device)
        if len(offsets) != 3:
            raise ValueError(f"tganv2 generator: need 3 frame offsets, got {list(offsets)}")
        n = z.shape[0]
        h = _frame_layout(self.frames(z))
        for block in self.blocks[: cfg.n_pre_blocks]:
            h = block(h)
        outs = [_to_video(self.renders[0](h), n)]
        for lvl in range(3):
            s, b, o = cfg.subsample_frame[lvl], cfg.subsample_batch[lvl], int(offsets[lvl])
            if not 0 <= o < s:
                raise ValueError(f"tganv2 generator: frame offset {o} outside [0, {s}) at level {lvl + 2}")
            m, c, hh, ww = h.shape
            h = h.view(n, m // n, c, hh, ww)[::b, o::s]  # reshape back before slicing (spec §8.10)
            n = h.shape[0]
            h = self.blocks[cfg.n_pre_blocks + lvl](h.flatten(0, 1))
            outs.append(_to_video(self.renders[lvl + 1](h), n))
        return outs

    # ---------------------------------------------------------------- inference: dense output
    def dense(self, z: Tensor, n_frames: int | None = None) -> Tensor:
        """z (N, z_dim) -> (N, C, T, S, S) float in [-1, 1]: no subsampling, last render only.

        Call in ``eval()`` mode for the official behaviour (BN running statistics, spec §1.6).
        """
        n = z.shape[0]
        h = _frame_layout(self.frames(z, n_frames))
        for block in self.blocks:
            h = block(h)
        return _to_video(self.renders[-1](h), n)

    def forward(
        self, z: Tensor, offsets: Sequence[int] | None = None, generator: torch.Generator | None = None
    ) -> list[Tensor] | Tensor:
        """``levels(z, offsets, generator)`` in training mode or when ``offsets`` are given (what the
        Objective calls); ``dense(z)`` in eval mode."""
        if self.training or offsets is not None:
            return self.levels(z, offsets, generator)
        return self.dense(z)
