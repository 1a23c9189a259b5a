"""StyleGAN2(-ADA) building blocks in plain PyTorch (no compiled ops), with the official parameter names.

Spec: ``shared/specs/styleganv.md`` §1.7 and the golden README "Official parameter-name prefixes". Stored
parameters are the *raw* equalized-LR tensors; every layer applies its runtime gain in ``forward``.

* :func:`upfirdn2d` — upsample (zero insertion), pad (negative = crop), FIR filter, downsample; the
  [1, 3, 3, 1] filter semantics of the official reference op, computed with a depthwise conv (the ×2
  upsampling case as one depthwise transposed conv, which is the same sum without the zeros).
* :func:`conv2d_resample` — the official padding arithmetic for conv + FIR up/down-sampling.
* :func:`modulated_conv2d` — style modulation + demodulation, non-fused (scale the activations, one
  shared-weight conv, scale the outputs): on CPU this measured faster than the grouped (fused) form and it
  equals it to float rounding (golden README: ≤ 3.1e-6).
* fp16: a layer marked ``use_fp16`` runs in float16 only on CUDA (``fp16_active``); the fp16 modulated conv
  pre-normalises weight and styles by their inf-norms as the official code does (rounding only).
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "double_backward_safe",
    "fp32_region",
    "setup_filter",
    "upfirdn2d",
    "upsample2d",
    "conv2d_resample",
    "bias_act",
    "normalize_2nd_moment",
    "FullyConnectedLayer",
    "Conv2dLayer",
    "modulated_conv2d",
    "SynthesisLayer",
    "ToRGBLayer",
    "MappingNetwork",
    "MinibatchStdLayer",
    "fp16_active",
]

SQRT2 = math.sqrt(2.0)


def fp32_region(x: Tensor):
    """Autocast off: the small, precision-critical parts (mapping, motion / time encoding, styles and
    demodulation, D conditioning and epilogue) stay float32 under the engine's bf16 autocast; measured: with
    them in bf16 the phase θ = ω·a·t of the time embedding alone moved frames by ~2.5 %."""
    return torch.autocast(x.device.type, enabled=False)


def fp16_active(use_fp16: bool, x: Tensor) -> bool:
    """Official mixed precision only where it pays: CUDA tensors (CPU runs fp32 or bf16 autocast)."""
    return use_fp16 and x.is_cuda


# ------------------------------------------------------------------------------------------ FIR filters
def setup_filter(taps=(1, 3, 3, 1)) -> Tensor:
    """Normalised outer product of a 1-D FIR kernel (sums to 1): the ``resample_filter`` buffer."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = f[:, None] * f[None, :]
    return f / f.sum()


def _dw_filter(f: Tensor, channels: int, gain: float, dtype: torch.dtype) -> Tensor:
    # depthwise weight; conv2d is a correlation, so flip the filter to get a true convolution
    w = (f * gain).flip([0, 1]).to(dtype)
    return w[None, None].expand(channels, 1, *f.shape)


class _FIR(torch.autograd.Function):
    """Depthwise FIR filtering ``conv2d(x, w, stride, padding, groups=C)`` with a *constant* filter.

    Autograd of a grouped conv builds its double backward from per-group convolutions (thousands of tiny
    convs in R1 at 512 channels); the op is linear in ``x``, so its backward is the adjoint (a depthwise
    transposed conv, :class:`_FIRT`) and the adjoint's backward is this op again — any order of derivatives
    stays two depthwise convs."""

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, stride: int, padding: tuple[int, int]) -> Tensor:
        ctx.save_for_backward(w)
        ctx.stride, ctx.padding, ctx.in_hw = stride, padding, tuple(x.shape[2:])
        return F.conv2d(x, w.to(x.dtype), stride=stride, padding=padding, groups=x.shape[1])

    @staticmethod
    def backward(ctx, gy: Tensor):
        (w,) = ctx.saved_tensors
        return _FIRT.apply(gy, w, ctx.stride, ctx.padding, ctx.in_hw), None, None, None


class _FIRT(torch.autograd.Function):
    """Adjoint of :class:`_FIR`: ``conv_transpose2d(y, w, stride, padding, groups=C)`` sized to ``out_hw``."""

    @staticmethod
    def forward(ctx, y: Tensor, w: Tensor, stride: int, padding: tuple[int, int], out_hw: tuple[int, int]) -> Tensor:
        ctx.save_for_backward(w)
        ctx.stride, ctx.padding = stride, padding
        kh, kw = w.shape[2:]
        op = [out_hw[i] - ((y.shape[2 + i] - 1) * stride - 2 * padding[i] + k) for i, k in enumerate((kh, kw))]
        return F.conv_transpose2d(
            y, w.to(y.dtype), stride=stride, padding=padding, output_padding=op, groups=y.shape[1]
        )

    @staticmethod
    def backward(ctx, gx: Tensor):
        (w,) = ctx.saved_tensors
        return _FIR.apply(gx, w, ctx.stride, ctx.padding), None, None, None, None


def upfirdn2d(x: Tensor, f: Tensor, up: int = 1, down: int = 1, padding=(0, 0, 0, 0), gain: float = 1.0) -> Tensor:
    """Reference upfirdn2d for a 2-D filter ``f`` (fh, fw): zero-insert by ``up``, pad ``(x0, x1, y0, y1)``
    (negative crops), convolve with ``f * gain``, keep every ``down``-th sample."""
    n, c, h, w = x.shape
    px0, px1, py0, py1 = (int(p) for p in padding)
    fh, fw = f.shape
    if up > 1:
        # zero insertion + pad + correlation with the flipped filter == transposed conv with stride up
        # and the filter itself; map the requested padding onto the transposed conv's output window.
        wt = (f * gain).to(x.dtype)[None, None].expand(c, 1, fh, fw).contiguous()
        # full transposed output index o' corresponds to padded-zero-inserted index o = o' - (fw - 1) + px0
        full = ((h - 1) * up + fh, (w - 1) * up + fw)
        y = _FIRT.apply(x, wt, up, (0, 0), full)  # (h-1)*up + fh rows
        out_h = h * up + py0 + py1 - fh + 1
        out_w = w * up + px0 + px1 - fw + 1
        oy, ox = fh - 1 - py0, fw - 1 - px0
        full_h, full_w = y.shape[2], y.shape[3]
        # crop (or zero-pad where the window leaves the computed range)
        pad_t, pad_l = max(-oy, 0), max(-ox, 0)
        pad_b = max(oy + out_h - full_h, 0)
        pad_r = max(ox + out_w - full_w, 0)
        if pad_t or pad_l or pad_b or pad_r:
            y = F.pad(y, [pad_l, pad_r, pad_t, pad_b])
            oy += pad_t
            ox += pad_l
        y = y[:, :, oy : oy + out_h, ox : ox + out_w]
    else:
        wf = _dw_filter(f, c, gain, x.dtype).contiguous()
        if px0 == px1 >= 0 and py0 == py1 >= 0:
            # symmetric zero padding and the down-sampling stride inside the depthwise conv (no padded copy,
            # no wasted outputs)
            return _FIR.apply(x, wf, down, (py0, px0))
        y = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
        y = y[:, :, max(-py0, 0) : y.shape[2] - max(-py1, 0), max(-px0, 0) : y.shape[3] - max(-px1, 0)]
        return _FIR.apply(y, wf, down, (0, 0))
    if down > 1:
        y = y[:, :, ::down, ::down]
    return y


def upsample2d(x: Tensor, f: Tensor, up: int = 2) -> Tensor:
    """The official ``upsample2d``: pad ``((fw + up - 1) // 2, (fw - up) // 2)``, gain ``up**2``."""
    fw = f.shape[-1]
    p0, p1 = (fw + up - 1) // 2, (fw - up) // 2
    return upfirdn2d(x, f, up=up, padding=(p0, p1, p0, p1), gain=up * up)


# ------------------------------------------------------------------------------ reduced-precision convs
_PLAIN_DEPTH = 0


@contextlib.contextmanager
def double_backward_safe():
    """Inside: plain autograd convs (R1 differentiates the input gradient again); outside, bf16/fp16 convs on
    CPU use :class:`_Conv` (same values, faster weight gradient)."""
    global _PLAIN_DEPTH
    _PLAIN_DEPTH += 1
    try:
        yield
    finally:
        _PLAIN_DEPTH -= 1


def _low_precision_dtype(x: Tensor) -> torch.dtype | None:
    """The reduced dtype a CPU conv of ``x`` runs in (autocast or bf16/fp16 tensors), else None."""
    if x.is_cuda or _PLAIN_DEPTH > 0 or not torch.is_grad_enabled():
        return None
    if torch.is_autocast_enabled("cpu"):
        return torch.get_autocast_dtype("cpu")
    return x.dtype if x.dtype in (torch.bfloat16, torch.float16) else None


def _wgrad(z: Tensor, g: Tensor, k: int, stride: int, pad: int) -> Tensor:
    """Weight gradient of ``conv2d(z, W, stride, pad)`` for output gradient ``g``: (B, A, k, k) float32 as k²
    GEMMs over channels-last views (oneDNN's bf16 weight-gradient kernel measured 6-100x slower on CPU)."""
    a, b = z.shape[1], g.shape[1]
    ho, wo = g.shape[2], g.shape[3]
    zh = (F.pad(z, [pad] * 4) if pad else z).permute(0, 2, 3, 1)
    g2 = g.permute(0, 2, 3, 1).reshape(-1, b).t()
    out = torch.empty(b, a, k, k, dtype=torch.float32, device=z.device)
    for i in range(k):
        for j in range(k):
            zs = zh[:, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride, :]
            out[:, :, i, j] = torch.mm(g2, zs.reshape(-1, a))
    return out


class _Conv(torch.autograd.Function):
    """``conv2d`` (or ``conv_transpose2d`` with ``transposed``) in a reduced dtype with a GEMM weight gradient.
    First-order only (used outside :func:`double_backward_safe`)."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, transposed, dtype):
        xd, wd = x.to(dtype), w.to(dtype)
        bd = b.to(dtype) if b is not None else None
        with torch.autocast("cpu", enabled=False):
            if transposed:
                y = F.conv_transpose2d(xd, wd, bd, stride=stride, padding=padding)
            else:
                y = F.conv2d(xd, wd, bd, stride=stride, padding=padding)
        ctx.save_for_backward(xd, wd)
        ctx.conf = (stride, padding, transposed, x.dtype, w.dtype, b is not None)
        return y

    @staticmethod
    def backward(ctx, gy):
        xd, wd = ctx.saved_tensors
        stride, padding, transposed, x_dtype, w_dtype, has_b = ctx.conf
        gy = gy.to(xd.dtype)
        k = wd.shape[-1]
        gi = gw = gb = None
        if ctx.needs_input_grad[0]:
            gi = torch.ops.aten.convolution_backward(
                gy, xd, wd, None, [stride] * 2, [padding] * 2, [1, 1], transposed, [0, 0], 1, [True, False, False]
            )[0]
            gi = gi.to(x_dtype)
        if ctx.needs_input_grad[1]:
            # conv: W (O, I) from (z = x, g = gy); transposed conv: W (I, O) from (z = gy, g = x)
            gw = (_wgrad(gy, xd, k, stride, padding) if transposed else _wgrad(xd, gy, k, stride, padding)).to(w_dtype)
        if has_b and ctx.needs_input_grad[2]:
            gb = gy.float().sum(dim=(0, 2, 3))
        return gi, gw, gb, None, None, None, None


def _conv2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: int = 1, padding=0) -> Tensor:
    pad = padding if isinstance(padding, int) else padding[0]
    sym = isinstance(padding, int) or padding[0] == padding[1]
    dt = _low_precision_dtype(x)
    if dt is None or w.shape[-1] != w.shape[-2] or not sym:
        return F.conv2d(x, w, b, stride=stride, padding=padding)
    return _Conv.apply(x, w, b, stride, pad, False, dt)


def _conv_transpose2d(x: Tensor, w: Tensor, stride: int, padding) -> Tensor:
    pad = padding if isinstance(padding, int) else padding[0]
    sym = isinstance(padding, int) or padding[0] == padding[1]
    dt = _low_precision_dtype(x)
    if dt is None or w.shape[-1] != w.shape[-2] or not sym:
        return F.conv_transpose2d(x, w, stride=stride, padding=padding)
    return _Conv.apply(x, w, None, stride, pad, True, dt)


def conv2d_resample(
    x: Tensor, w: Tensor, f: Tensor | None, up: int = 1, down: int = 1, padding: int = 0, bias: Tensor | None = None
) -> Tensor:
    """Conv (weight ``w`` (O, I, kh, kw), correlation as ``F.conv2d``) with FIR up/down-sampling; the
    official padding bookkeeping (stride-2 transposed conv + FIR for up, FIR + stride-2 conv for down).
    ``bias`` (O,) is added to the output (inside the final conv where the conv is the last op)."""
    kh, kw = w.shape[-2:]
    fh, fw = f.shape if f is not None else (1, 1)
    px0 = px1 = py0 = py1 = padding
    if up > 1:
        px0 += (fw + up - 1) // 2
        px1 += (fw - up) // 2
        py0 += (fh + up - 1) // 2
        py1 += (fh - up) // 2
    if down > 1:
        px0 += (fw - down + 1) // 2
        px1 += (fw - down) // 2
        py0 += (fh - down + 1) // 2
        py1 += (fh - down) // 2
    if kw == 1 and kh == 1 and down > 1 and up == 1:
        x = upfirdn2d(x, f, down=down, padding=(px0, px1, py0, py1))
        return _conv2d(x, w, bias)
    if kw == 1 and kh == 1 and up > 1 and down == 1:
        x = _conv2d(x, w)
        return _add_bias(upfirdn2d(x, f, up=up, padding=(px0, px1, py0, py1), gain=up * up), bias)
    if down > 1 and up == 1:
        x = upfirdn2d(x, f, padding=(px0, px1, py0, py1))
        return _conv2d(x, w, bias, stride=down)
    if up > 1:
        px0 -= kw - 1
        px1 -= kw - up
        py0 -= kh - 1
        py1 -= kh - up
        pxt = max(min(-px0, -px1), 0)
        pyt = max(min(-py0, -py1), 0)
        x = _conv_transpose2d(x, w.transpose(0, 1), stride=up, padding=[pyt, pxt])
        x = upfirdn2d(x, f, padding=(px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt), gain=up * up)
        if down > 1:
            x = upfirdn2d(x, f, down=down)
        return _add_bias(x, bias)
    if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
        return _conv2d(x, w, bias, padding=[py0, px0])
    x = upfirdn2d(x, f if f is not None else torch.ones(1, 1, device=x.device), padding=(px0, px1, py0, py1))
    return _conv2d(x, w, bias)


def _add_bias(x: Tensor, b: Tensor | None) -> Tensor:
    return x if b is None else x + b.reshape(1, -1, 1, 1).to(x.dtype)


def _clamp(x: Tensor, clamp: float | None) -> Tensor:
    """``clamp(x, ±clamp)``; on CPU skipped (same result, no 4-pass backward) when nothing reaches it."""
    if clamp is None or clamp < 0:
        return x
    if x.is_cuda or x.numel() == 0:
        return x.clamp(-clamp, clamp)
    xv = x.detach()
    if xv.ndim == 4 and xv.is_contiguous(memory_format=torch.channels_last):
        xv = xv.permute(0, 2, 3, 1)  # a contiguous view: aminmax would otherwise copy the whole tensor
    lo, hi = torch.aminmax(xv.reshape(-1))
    if bool(hi > clamp) or bool(lo < -clamp):
        return x.clamp(-clamp, clamp)
    return x


# ------------------------------------------------------------------------------------------ bias + act
def bias_act(
    x: Tensor, b: Tensor | None, act: str = "linear", gain: float = 1.0, clamp: float | None = None, dim: int = 1
) -> Tensor:
    """``clamp(act(x + b) * gain, ±clamp)``; act ``linear`` or ``lrelu`` (slope 0.2). ``gain`` includes the
    activation's own gain (√2 for lrelu) as the official ``act_gain * gain``."""
    if b is not None:
        shape = [1] * x.ndim
        shape[dim] = -1
        x = x + b.reshape(shape).to(x.dtype)
    if act == "lrelu":
        x = F.leaky_relu(x, 0.2)
    elif act != "linear":
        raise ValueError(f"unknown activation {act!r}")
    if gain != 1:
        x = x * gain
    x = _clamp(x, clamp)
    return x


def normalize_2nd_moment(x: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


class FullyConnectedLayer(nn.Module):
    """Equalized-LR linear layer: ``weight`` (out, in) stored × 1/lr_mult, scaled by lr_mult/√in at run time;
    ``bias`` stored × 1/lr_mult (init ``bias_init``)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "linear",
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: Tensor) -> Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear":
            if b is not None:
                return torch.addmm(b.unsqueeze(0), x, w.t())
            return x.matmul(w.t())
        return bias_act(x.matmul(w.t()), b, act=self.activation, gain=SQRT2)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, act={self.activation}"


class Conv2dLayer(nn.Module):
    """Equalized-LR conv with optional FIR down/up-sampling, bias, lrelu (gain √2) and clamp (D and the
    ResNet skips). Carries a ``resample_filter`` buffer as the official layer."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "linear",
        up: int = 1,
        down: int = 1,
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        self.activation, self.up, self.down, self.conv_clamp = activation, up, down, conv_clamp
        self.register_buffer("resample_filter", setup_filter())
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.act_gain = SQRT2 if activation == "lrelu" else 1.0
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: Tensor, gain: float = 1.0) -> Tensor:
        # act(x + b) * g == act(g x + g b) for the positively homogeneous lrelu / linear: the gains go into the
        # weight and bias, the bias into the conv (one pass instead of three)
        g = self.act_gain * gain
        w = self.weight.to(x.dtype) * (self.weight_gain * g)
        b = self.bias.to(x.dtype) * g if self.bias is not None else None
        x = conv2d_resample(x, w, self.resample_filter.to(x.dtype), self.up, self.down, self.padding, bias=b)
        if self.activation == "lrelu":
            x = F.leaky_relu(x, 0.2)
        elif self.activation != "linear":
            raise ValueError(f"unknown activation {self.activation!r}")
        return _clamp(x, self.conv_clamp * gain if self.conv_clamp is not None else None)


# ------------------------------------------------------------------------------------------ modulation
def modulated_conv2d(
    x: Tensor,
    weight: Tensor,
    styles: Tensor,
    up: int = 1,
    padding: int = 0,
    resample_filter: Tensor | None = None,
    demodulate: bool = True,
    fp16: bool = False,
    return_dcoefs: bool = False,
):
    """Per-sample modulated conv: ``x`` (N, I, H, W), ``weight`` (O, I, k, k) raw, ``styles`` (N, I).

    Non-fused form: ``conv(x * s) * d`` with ``d = rsqrt(sum_{i,k} (w s)^2 + 1e-8)``. With ``fp16`` the
    weight is pre-scaled by 1/√fan_in / its per-output inf-norm and the styles by their inf-norm (official).
    """
    n = x.shape[0]
    o, i, kh, kw = weight.shape
    if fp16 and demodulate:
        weight = weight * (1 / math.sqrt(i * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
    dcoefs = None
    if demodulate:
        weight, styles = weight.float(), styles.float()
        # sum_{i,k} (w_oik s_ni)^2 = sum_i s_ni^2 * (sum_k w_oik^2): a (N, I) x (I, O) matmul instead of the
        # (N, O, I, k, k) product tensor
        wsq = weight.square().sum(dim=[2, 3])  # (O, I)
        dcoefs = (styles.square().matmul(wsq.t()) + 1e-8).rsqrt()  # (N, O)
    x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
    x = conv2d_resample(x, weight.to(x.dtype), resample_filter, up=up, padding=padding)
    if return_dcoefs:
        return x, dcoefs
    if dcoefs is not None:
        x = x * dcoefs.to(x.dtype).reshape(n, -1, 1, 1)
    return x


class SynthesisLayer(nn.Module):
    """Modulated 3×3 conv (optionally ×2 up), bias, lrelu·√2, clamp. No noise input (StyleGAN-V
    ``use_noise: false``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        kernel_size: int = 3,
        up: int = 1,
        conv_clamp: float | None = None,
        affine_in: int | None = None,
    ) -> None:
        super().__init__()
        self.up, self.conv_clamp = up, conv_clamp
        self.padding = kernel_size // 2
        self.act_gain = SQRT2
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("resample_filter", setup_filter())
        self.affine = FullyConnectedLayer(affine_in or w_dim, in_channels, bias_init=1.0)

    def forward(self, x: Tensor, w: Tensor, fp16: bool = False, gain: float = 1.0) -> Tensor:
        with fp32_region(w):
            styles = self.affine(w.float())
        g = self.act_gain * gain
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        if _shared_rows(styles) and not fp16:
            # inference on one video (all frames share w): fold modulation, demodulation and the gain into a
            # single weight: one plain conv, no per-sample scaling passes
            with fp32_region(w):
                s0 = styles[0]
                wm = self.weight * s0.reshape(1, -1, 1, 1)
                d = (wm.square().sum(dim=[1, 2, 3]) + 1e-8).rsqrt()
                wm = wm * (d * g).reshape(-1, 1, 1, 1)
            f = self.resample_filter.to(x.dtype)
            b = (self.bias * g).to(x.dtype)
            if self.up > 1:
                x = _add_bias(conv2d_resample(x, wm.to(x.dtype), f, up=self.up, padding=self.padding), b)
            else:
                x = conv2d_resample(x, wm.to(x.dtype), f, padding=self.padding, bias=b)
            return _clamp(F.leaky_relu(x, 0.2, inplace=True), clamp)
        x, dcoefs = modulated_conv2d(
            x,
            self.weight,
            styles,
            up=self.up,
            padding=self.padding,
            resample_filter=self.resample_filter.to(x.dtype),
            fp16=fp16,
            return_dcoefs=True,
        )
        # lrelu(x d + b) g == lrelu(x (d g) + b g): demodulation, bias and gain in one addcmul pass
        n = x.shape[0]
        x = torch.addcmul(
            (self.bias * g).to(x.dtype).reshape(1, -1, 1, 1), x, (dcoefs * g).to(x.dtype).reshape(n, -1, 1, 1)
        )
        x = F.leaky_relu(x, 0.2)
        return _clamp(x, clamp)


def _shared_rows(styles: Tensor) -> bool:
    """No-grad calls whose samples all carry the same styles (the frames of one video)."""
    if torch.is_grad_enabled() or styles.shape[0] < 2:
        return not torch.is_grad_enabled() and styles.shape[0] == 1
    return bool(torch.equal(styles, styles[:1].expand_as(styles)))


class ToRGBLayer(nn.Module):
    """1×1 modulated conv without demodulation; styles × 1/√in_channels; bias; clamp."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        conv_clamp: float | None = None,
        affine_in: int | None = None,
    ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(affine_in or w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: Tensor, w: Tensor, fp16: bool = False) -> Tensor:
        with fp32_region(w):
            styles = self.affine(w.float()) * self.weight_gain
        if _shared_rows(styles) and not fp16:
            wm = (self.weight * styles[0].reshape(1, -1, 1, 1)).to(x.dtype)
            return _clamp(_conv2d(x, wm, self.bias.to(x.dtype)), self.conv_clamp)
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fp16=fp16)
        return bias_act(x, self.bias, clamp=self.conv_clamp)


# ------------------------------------------------------------------------------------------ mapping
class MappingNetwork(nn.Module):
    """z (+ c) → w: 2nd-moment normalisation, ``num_layers`` FC lrelu (lr-mult 0.01); w_avg tracking and
    truncation. With ``z_dim = 0`` it is the D conditioning network (embed c, normalise, FC layers)."""

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_ws: int | None,
        num_layers: int = 2,
        lr_multiplier: float = 0.01,
        w_avg_beta: float | None = 0.995,
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers, self.w_avg_beta = num_layers, w_avg_beta
        embed_features = w_dim if c_dim > 0 else 0
        features = [z_dim + embed_features] + [w_dim] * num_layers
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            setattr(
                self,
                f"fc{idx}",
                FullyConnectedLayer(features[idx], features[idx + 1], activation="lrelu", lr_multiplier=lr_multiplier),
            )
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros(w_dim))
        # how many w_avg updates happen per call in train mode (0 = frozen); the objective toggles it
        self.update_w_avg = True

    def forward(
        self, z: Tensor | None, c: Tensor | None = None, truncation_psi: float = 1.0, update_w_avg: bool | None = None
    ) -> Tensor:
        ref = z if z is not None else c
        assert ref is not None
        with fp32_region(ref):
            return self._forward(z, c, truncation_psi, update_w_avg)

    def _forward(self, z: Tensor | None, c: Tensor | None, truncation_psi: float, update_w_avg: bool | None) -> Tensor:
        parts = []
        if self.z_dim > 0:
            assert z is not None
            parts.append(normalize_2nd_moment(z.to(torch.float32)))
        if self.c_dim > 0:
            assert c is not None
            parts.append(normalize_2nd_moment(self.embed(c.to(torch.float32))))
        x = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)
        do_update = self.update_w_avg if update_w_avg is None else update_w_avg
        if self.w_avg_beta is not None and self.num_ws is not None and self.training and do_update:
            with torch.no_grad():
                m = x.detach().float().mean(dim=0)
                self.w_avg.copy_(m.lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is not None:
            x = x.unsqueeze(1).repeat(1, self.num_ws, 1)
            if truncation_psi != 1:
                x = self.w_avg.to(x.dtype).lerp(x, truncation_psi)
        return x


# ------------------------------------------------------------------------------------------ D helpers
class MinibatchStdLayer(nn.Module):
    """Minibatch standard deviation over **strided** groups of ``min(group_size, N)`` samples (sample i is
    in group i mod N/G), ``num_channels`` extra feature maps."""

    def __init__(self, group_size: int, num_channels: int = 1, adaptive: bool = False) -> None:
        super().__init__()
        self.group_size, self.num_channels, self.adaptive = group_size, num_channels, adaptive

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size else n
        if self.adaptive:  # largest group size <= g dividing n (per-frame image D of the MoCoGAN baseline)
            while n % g:
                g -= 1
        if n % g:
            raise ValueError(f"minibatch-stddev: batch {n} is not divisible by the group size {g}")
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)
        y = y - y.mean(dim=0)
        y = y.square().mean(dim=0)
        y = (y + 1e-8).sqrt()
        y = y.mean(dim=[2, 3, 4])
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y.to(x.dtype)], dim=1)
