"""Convolutions whose double backward is correct under CPU bf16 autocast (for R1 and other gradient penalties).

torch 2.13's CPU bf16 double backward of a padded stride-1 convolution gives wrong weight gradients (relative
error ~0.95 against fp32; pinned by ``tests/losses/test_gan.py``). The bug is in the fused double-backward
formula of ``convolution_backward``, not in the first-order kernels. Inside :func:`bf16_penalty_convs`, every
``conv2d``/``conv3d`` under CPU bf16 autocast runs as a function whose input gradient is written as an ordinary,
differentiable ``conv_transpose`` — so the penalty's second backward goes through first-order kernels that are
correct in bf16. The forward and both first-order gradients are the same computation as autocast's bf16 conv.

:func:`input_grads_only` marks an ``autograd.grad`` call that asks for input gradients only (R1's
``grad_x D(x)``): the weight gradients, which nothing uses there, are then not computed. Differentiating a
weight gradient itself (a penalty on parameter gradients) goes through torch's own double backward, as without
this module.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.overrides import TorchFunctionMode

__all__ = ["bf16_penalty_convs", "input_grads_only"]

_state = threading.local()


@contextlib.contextmanager
def input_grads_only() -> Iterator[None]:
    """Within: the convolutions of :func:`bf16_penalty_convs` skip their weight and bias gradients."""
    prev = getattr(_state, "input_only", False)
    _state.input_only = True
    try:
        yield
    finally:
        _state.input_only = prev


def _tuple(v: int | Sequence[int], n: int) -> tuple[int, ...]:
    return (v,) * n if isinstance(v, int) else tuple(v)


class _PenaltyConv(torch.autograd.Function):
    """N-d convolution (stride, padding, dilation, groups) whose input gradient is a differentiable op."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):  # noqa: ANN001, ANN205
        ctx.save_for_backward(x, w)
        ctx.conf = (stride, padding, dilation, groups, b is not None)
        return torch.ops.aten.convolution(x, w, b, stride, padding, dilation, False, [0] * len(stride), groups)

    @staticmethod
    def backward(ctx, go):  # noqa: ANN001, ANN205
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, has_bias = ctx.conf
        nd = len(stride)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            # output_padding recovers input sizes that a strided conv maps to the same output size
            k = w.shape[2:]
            out_pad = [
                x.shape[2 + i] - ((go.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + 1)
                for i in range(nd)
            ]
            transpose = F.conv_transpose2d if nd == 2 else F.conv_transpose3d
            gx = transpose(go, w, None, stride, padding, out_pad, groups, dilation)
        if not getattr(_state, "input_only", False):
            if ctx.needs_input_grad[1]:
                gw = torch.ops.aten.convolution_backward(
                    go, x, w, None, stride, padding, dilation, False, [0] * nd, groups, [False, True, False]
                )[1]
            if has_bias and ctx.needs_input_grad[2]:
                gb = go.sum([0, *range(2, go.dim())])
        return gx, gw, gb, None, None, None, None


def _penalty_conv(nd: int, x: Tensor, w: Tensor, b: Tensor | None = None, stride=1, padding=0, dilation=1, groups=1):  # noqa: ANN001
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same" and all(s == 1 for s in _tuple(stride, nd)):
            d = _tuple(dilation, nd)
            k = w.shape[2:]
            if any((d[i] * (k[i] - 1)) % 2 for i in range(nd)):
                return None  # asymmetric "same": leave it to torch (run in fp32 by the caller)
            padding = tuple(d[i] * (k[i] - 1) // 2 for i in range(nd))
        else:
            return None
    dt = torch.get_autocast_dtype("cpu")
    x, w = x.to(dt), w.to(dt)  # autocast's casts, outside the function: their backward returns fp32 grads
    b = b.to(dt) if b is not None else None
    with torch.autocast("cpu", enabled=False):
        return _PenaltyConv.apply(x, w, b, _tuple(stride, nd), _tuple(padding, nd), _tuple(dilation, nd), groups)


class _Mode(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = kwargs or {}
        nd = 2 if func is F.conv2d else 3 if func is F.conv3d else 0
        if nd and torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16:
            y = _penalty_conv(nd, *args, **kwargs)
            if y is not None:
                return y
            with torch.autocast("cpu", enabled=False):  # a form not handled above: correct in fp32
                args = tuple(a.float() if isinstance(a, Tensor) else a for a in args)
                kwargs = {k: v.float() if isinstance(v, Tensor) else v for k, v in kwargs.items()}
                return func(*args, **kwargs)
        return func(*args, **kwargs)


def bf16_penalty_convs() -> contextlib.AbstractContextManager:
    """Context for a forward pass whose input gradient is penalised: convs keep bf16 with a correct double backward.

    Outside CPU bf16 autocast the convolutions inside are torch's own (no-op context)."""
    return _Mode()
