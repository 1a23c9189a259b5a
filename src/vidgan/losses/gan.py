"""Adversarial loss terms shared by every family (pure functions of logits; no reduction surprises).

Each formulation has a D side (real and fake logits) and a G side (fake logits) and returns the batch mean
of the per-sample losses in float32. ``reduce=False`` returns the per-element losses instead.

* ``logistic`` (non-saturating, Goodfellow et al. 2014; StyleGAN2, TGANv2):
  D: softplus(-D(x)) + softplus(D(G(z))); G: softplus(-D(G(z))).
* ``hinge`` (Lim & Ye 2017): D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)).
* ``lsgan`` (Mao et al. 2017, the pix2pix/CycleGAN form with targets 1/0): D: (D(x) - 1)^2 + D(G(z))^2,
  G: (D(G(z)) - 1)^2. pix2pix/CycleGAN halve the D loss; do that in the objective where the paper does.
* ``bce`` (vanilla GAN on logits; equals ``logistic`` for a single logit): BCE-with-logits against 1/0.
* ``wgan``: D: -D(x) + D(G(z)); G: -D(G(z)).

``r1_penalty`` is the R1 gradient penalty (Mescheder et al. 2018): gamma / 2 * E ||grad_x D(x)||^2.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from vidgan.nn.double_backward import bf16_penalty_convs, input_grads_only

__all__ = [
    "GanLoss",
    "d_loss",
    "g_loss",
    "r1_penalty",
    "grad_sqnorm",
    "double_backward_precision",
    "double_backward_convs",
    "cpu_bf16_active",
]

GanLoss = Literal["logistic", "hinge", "lsgan", "bce", "wgan"]


def _mean(x: Tensor, reduce: bool) -> Tensor:
    return x.mean() if reduce else x


def d_loss(kind: GanLoss, real: Tensor | None, fake: Tensor | None, reduce: bool = True) -> dict[str, Tensor]:
    """D-side terms ``{"real": ..., "fake": ...}`` (only those whose logits are given)."""
    out: dict[str, Tensor] = {}
    if real is not None:
        r = real.float()
        term = {
            "logistic": lambda: F.softplus(-r),
            "hinge": lambda: F.relu(1.0 - r),
            "lsgan": lambda: (r - 1.0).square(),
            "bce": lambda: F.binary_cross_entropy_with_logits(r, torch.ones_like(r), reduction="none"),
            "wgan": lambda: -r,
        }
        out["real"] = _mean(_pick(term, kind)(), reduce)
    if fake is not None:
        f = fake.float()
        term = {
            "logistic": lambda: F.softplus(f),
            "hinge": lambda: F.relu(1.0 + f),
            "lsgan": lambda: f.square(),
            "bce": lambda: F.binary_cross_entropy_with_logits(f, torch.zeros_like(f), reduction="none"),
            "wgan": lambda: f,
        }
        out["fake"] = _mean(_pick(term, kind)(), reduce)
    return out


def g_loss(kind: GanLoss, fake: Tensor, reduce: bool = True) -> Tensor:
    """G-side term on the fake logits."""
    f = fake.float()
    term = {
        "logistic": lambda: F.softplus(-f),
        "hinge": lambda: -f,
        "lsgan": lambda: (f - 1.0).square(),
        "bce": lambda: F.binary_cross_entropy_with_logits(f, torch.ones_like(f), reduction="none"),
        "wgan": lambda: -f,
    }
    return _mean(_pick(term, kind)(), reduce)


def _pick(table: dict, kind: str):
    if kind not in table:
        raise ValueError(f"unknown GAN loss {kind!r}: use one of {', '.join(table)}")
    return table[kind]


def grad_sqnorm(outputs: Tensor | Sequence[Tensor], inputs: Sequence[Tensor], create_graph: bool = True) -> Tensor:
    """Per-sample ``||d sum(outputs) / d inputs||^2`` summed over all ``inputs`` (same batch size N) -> (N,)."""
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    total = sum(o.float().sum() for o in outs)
    with input_grads_only():  # weight gradients of bf16_penalty_convs are not needed here
        grads = torch.autograd.grad(total, list(inputs), create_graph=create_graph)
    return sum(g.float().square().flatten(1).sum(1) for g in grads)


def r1_penalty(real_logits: Tensor | Sequence[Tensor], real_inputs: Tensor | Sequence[Tensor], gamma: float) -> Tensor:
    """R1: ``gamma / 2 * mean_i ||grad_x D(x_i)||^2`` (StyleGAN2 convention; inputs must require grad)."""
    inputs = [real_inputs] if isinstance(real_inputs, Tensor) else list(real_inputs)
    return grad_sqnorm(real_logits, inputs).mean() * (gamma / 2.0)


def cpu_bf16_active() -> bool:
    """True under CPU bf16 autocast (where double backward through padded convolutions is wrong, below)."""
    return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16


def double_backward_precision():
    """Context for the forward pass whose input gradient is penalised (R1): fp32 under CPU bf16 autocast.

    torch 2.13's CPU bf16 kernels give wrong *weight* gradients through the double backward of padded
    stride-1 convolutions (relative error ~0.95 against fp32 on a 3x3, padding 1 conv at 32x32; correct
    without padding, with stride 2, on small maps, in fp32 and with bf16-rounded weights in fp64:
    ``tests/losses/test_gan.py``). R1 under bf16 autocast therefore trained D with wrong gradients (and
    overflowed to inf on TGANv2's port configuration). Running the penalised forward in fp32 is correct;
    the other forwards keep bf16. Elsewhere (GPU, fp16, no autocast) this is a no-op.

    :func:`double_backward_convs` is the faster alternative for discriminators made of convolutions and
    piecewise-linear layers only (checked per family: StyleGAN-V's D stays wrong in bf16 with it).
    """
    if cpu_bf16_active():
        return torch.autocast("cpu", enabled=False)
    return contextlib.nullcontext()


def double_backward_convs():
    """Like :func:`double_backward_precision`, but the penalised pass keeps bf16 under CPU bf16 autocast: its
    convolutions compute their input gradient as an ordinary ``conv_transpose``
    (:func:`vidgan.nn.double_backward.bf16_penalty_convs`), so R1's second backward runs through first-order
    kernels, which are correct in bf16. Correct only where the other layers' bf16 double backward is (ReLU,
    average pooling, sums, linear: TGANv2's D, weight gradients within 0.4-0.7 % of fp32 on the port preset;
    StyleGAN-V's D still 5-200 % off with it, so it keeps the fp32 guard). A no-op outside CPU bf16 autocast.
    """
    if cpu_bf16_active():
        return bf16_penalty_convs()
    return contextlib.nullcontext()
