"""Fast inference copy of an :class:`FRNet` for the streaming upscaler (``vidgan upscale``).

:class:`FastFRNet` runs the very same ``FRNet.step`` code on a private copy of the model whose
convolution containers are replaced by fused equivalents (measured on a 2-core CPU, see
docs/performance.md "TecoGAN inference: where the time goes"):

* **channels_last** weights and activations: PyTorch's transposed convolution computes in channels_last
  and, for NCHW tensors, copies its (1, 64, 576, 720) output back to NCHW (the largest single cost of the
  NCHW path); every convolution of FNet and SRNet now stays in channels_last;
* **conv + activation** (ReLU, LeakyReLU 0.2) and **conv + residual add** as one oneDNN call
  (``torch.ops.mkldnn._convolution_pointwise`` / ``_convolution_transpose_pointwise``, the kernels
  torch.compile's CPU backend emits) instead of separate elementwise passes (CPU only; elsewhere the same
  layers run unfused);
* the BD **bicubic x4** (the skip and the LR->HR flow) as two small matmuls with the interpolation
  matrices of the frame size (same taps and replicated borders as ``vidgan.nn.bicubic``, whose 1-channel
  convolutions are slower for these shapes: 4.1 vs 3.6 ms at one thread, 70 vs 17 ms with two threads on a
  loaded machine; differences ~1e-7 relative);
* **weights cast once** for bf16 (autocast re-casts every weight on every frame); the parts that are
  memory-bound or precision-sensitive stay float32 exactly as the recurrent state: the FNet ``tanh``, the
  LR->HR flow upsampling, the warp, space-to-depth and the bicubic skip.

fp32 outputs equal ``FRNet.step`` within the golden tolerances (oneDNN blocks channels_last differently:
~1e-6); bf16 outputs are closer to fp32 than autocast's were (the float32 skip and flow).
The copy is taken at construction: build a new one after changing the model's weights.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn

from vidgan.nn.bicubic import BicubicUpsampler

from .generator import FRNet, ResidualBlock

__all__ = ["FastFRNet", "fused_kernels_available"]

_CL = torch.channels_last
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def fused_kernels_available(device: torch.device | str = "cpu") -> bool:
    """Whether oneDNN's fused convolution ops can be used on ``device`` (CPU builds with mkldnn)."""
    return (
        torch.device(device).type == "cpu"
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
        and hasattr(torch.ops.mkldnn, "_convolution_transpose_pointwise")
    )


def _conv_args(c: nn.Conv2d | nn.ConvTranspose2d) -> tuple:
    return list(c.padding), list(c.stride), list(c.dilation), c.groups


def _fused_conv(c: nn.Conv2d, attr: str, scalars: list) -> Callable[[Tensor], Tensor]:
    def run(x: Tensor) -> Tensor:
        p, s, d, g = _conv_args(c)
        return torch.ops.mkldnn._convolution_pointwise(x, c.weight, c.bias, p, s, d, g, attr, scalars, "")

    return run


def _fused_deconv(c: nn.ConvTranspose2d, attr: str) -> Callable[[Tensor], Tensor]:
    def run(x: Tensor) -> Tensor:
        p, s, d, g = _conv_args(c)
        op = list(c.output_padding)
        return torch.ops.mkldnn._convolution_transpose_pointwise(x, c.weight, c.bias, p, op, s, d, g, attr, [], "")

    return run


def _fused_resblock(b: ResidualBlock) -> Callable[[Tensor], Tensor]:
    c1, _, c2 = b.conv
    first = _fused_conv(c1, "relu", [])

    def run(x: Tensor) -> Tensor:
        p, s, d, g = _conv_args(c2)
        # x + conv2(relu(conv1(x))): the add is oneDNN's binary post-op (same float32 sum as x + y)
        return torch.ops.mkldnn._convolution_pointwise.binary(
            first(x), x, c2.weight, c2.bias, p, s, d, g, "add", None, None, [], None
        )

    return run


def _plan(layers: list[nn.Module], fuse: bool) -> list[Callable[[Tensor], Tensor]]:
    """Callables running ``layers`` in order, conv + following activation merged where possible."""
    steps: list[Callable[[Tensor], Tensor]] = []
    i = 0
    while i < len(layers):
        m, nxt = layers[i], layers[i + 1] if i + 1 < len(layers) else None
        act = None
        if isinstance(nxt, nn.ReLU):
            act = ("relu", [])
        elif isinstance(nxt, nn.LeakyReLU):
            act = ("leaky_relu", [float(nxt.negative_slope)])
        if fuse and type(m) is nn.Conv2d and m.padding_mode == "zeros":
            attr, scalars = act or ("none", [])
            steps.append(_fused_conv(m, attr, scalars))
            i += 2 if act else 1
        elif fuse and type(m) is nn.ConvTranspose2d and act in (None, ("relu", [])):
            steps.append(_fused_deconv(m, act[0] if act else "none"))
            i += 2 if act else 1
        elif fuse and type(m) is ResidualBlock:
            steps.append(_fused_resblock(m))
            i += 1
        else:  # anything else (pooling, the TF-layout transposed conv, ...) runs as it is
            steps.append(m)
            i += 1
    return steps


class _FusedSequential(nn.Module):
    """Runs ``layers`` on channels_last ``dtype`` activations (inputs converted on entry); ``out_dtype``
    converts the result (the FNet flow head returns float32 for its ``tanh``)."""

    def __init__(self, layers: list[nn.Module], dtype: torch.dtype, fuse: bool, out_dtype: torch.dtype | None = None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.dtype = dtype
        self.out_dtype = out_dtype
        self._steps = _plan(layers, fuse)

    def forward(self, x: Tensor) -> Tensor:
        x = x.to(dtype=self.dtype, memory_format=_CL)
        for step in self._steps:
            x = step(x)
        return x if self.out_dtype is None else x.to(self.out_dtype)


class _BicubicMatmul(nn.Module):
    """``vidgan.nn.bicubic.upsample_bicubic`` as ``A_h @ x @ A_w^T`` (interpolation matrices cached per size)."""

    def __init__(self, taps: Tensor) -> None:
        super().__init__()
        self.taps = taps.detach().double().cpu()
        self.scale = self.taps.shape[0]
        self._mats: dict[tuple, Tensor] = {}

    def _matrix(self, n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
        key = (n, dtype, device)
        if key not in self._mats:
            s = self.scale
            a = torch.zeros(s * n, n, dtype=torch.float64)
            i = torch.arange(n)
            for k in range(s):  # output s*i + k = sum_j taps[k, j] * x[clamp(i - 1 + j)] (replicated borders)
                for j in range(4):
                    a.index_put_((i * s + k, (i - 1 + j).clamp(0, n - 1)), self.taps[k, j].expand(n), accumulate=True)
            self._mats[key] = a.to(device=device, dtype=dtype)
        return self._mats[key]

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        rows = self._matrix(h, x.dtype, x.device) @ x.reshape(n * c, h, w)  # (n*c, s*h, w)
        out = rows @ self._matrix(w, x.dtype, x.device).t()  # (n*c, s*h, s*w)
        return out.view(n, c, self.scale * h, self.scale * w)


class FastFRNet:
    """``step(lr_curr, lr_prev, hr_prev)`` of ``FRNet`` on a fused, channels_last copy (see module).

    Args:
        model: the FRNet (not modified; its weights are copied now).
        dtype: ``"fp32"`` or ``"bf16"`` (convolutions in bf16; flows, warp and skip in float32).
        fuse: use oneDNN's fused conv ops (default: when available on the model's device).
    """

    def __init__(self, model: FRNet, dtype: Literal["fp32", "bf16"] = "fp32", fuse: bool | None = None) -> None:
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be 'fp32' or 'bf16', got {dtype!r}")
        net = copy.deepcopy(model).eval().requires_grad_(False)
        dev = next(net.parameters()).device
        self.fuse = fused_kernels_available(dev) if fuse is None else fuse
        cdt = _DTYPES[dtype]
        for m in net.modules():  # convolutions only: the bicubic tap buffer stays float32
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                m.to(dtype=cdt, memory_format=_CL)
        fn, sr = net.fnet, net.srnet
        for name in ("encoder1", "encoder2", "encoder3", "decoder1", "decoder2", "decoder3"):
            setattr(fn, name, _FusedSequential(list(getattr(fn, name)), cdt, self.fuse))
        fn.flow = _FusedSequential(list(fn.flow), cdt, self.fuse, out_dtype=torch.float32)
        sr.conv_in = _FusedSequential(list(sr.conv_in), cdt, self.fuse)
        sr.resblocks = _FusedSequential(list(sr.resblocks), cdt, self.fuse)
        sr.conv_up = _FusedSequential(list(sr.conv_up), cdt, self.fuse)
        # bf16: conv_out's bf16 result + the float32 skip promotes to float32
        sr.conv_out = _FusedSequential([sr.conv_out], cdt, self.fuse)
        if isinstance(net.upsample_func, BicubicUpsampler):  # one module, registered twice (as in FRNet)
            net.upsample_func = sr.upsample_func = _BicubicMatmul(net.upsample_func.kernels)
        self.net = net
        self.dtype = dtype
        self.scale = net.scale

    @torch.no_grad()
    def step(self, lr_curr: Tensor, lr_prev: Tensor, hr_prev: Tensor) -> Tensor:
        """As :meth:`FRNet.step` (float32 inputs and state); returns the float32 HR frame."""
        return self.net.step(lr_curr, lr_prev, hr_prev).float()
