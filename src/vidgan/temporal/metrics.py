"""TimeCycleGAN's temporal metrics (spec §5), pure functions; names differ from TecoGAN's on purpose.

* ``tlp_timecycle``: mean over consecutive pairs (t, t+1) of all sequences of
  |LPIPS(real_t, real_{t+1}) - LPIPS(fake_t, fake_{t+1})| — no x100 and no skipped frames (TecoGAN's tLP
  multiplies by 100 and skips 2 frames at each end).
* ``tof_timecycle``: mean over pairs of the **sum** over the batch, both flow components and all pixels of
  |F_real - F_fake|, F = flow(frame_t, frame_{t+1}) (officially FlowNet2) — grows with H*W, not comparable
  with TecoGAN's Farnebäck per-pixel-norm mean. Registered name: ``tof_timecycle_flownet2`` when the flows
  come from FlowNet2; with another estimator say which.

The official code reshapes frames with a hard-coded 64x64 view (wrong for any other size); these work at
the true H, W. Sequences are (N, T, C, H, W) float in [-1, 1]. ``lpips`` is any callable (x0, x1) -> (N,)
distances (e.g. ``vidgan.metrics.lpips.lpips_alex()``); ``flow`` any ``(a, b) -> (N, 2, H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["tlp_timecycle", "tlp_pairs", "tof_timecycle", "tof_timecycle_from_flows"]


def tlp_pairs(seq: Tensor, lpips: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """LPIPS(frame_t, frame_{t+1}) of every consecutive pair: (N, T-1)."""
    n, t = seq.shape[:2]
    a = seq[:, :-1].reshape(n * (t - 1), *seq.shape[2:])
    b = seq[:, 1:].reshape(n * (t - 1), *seq.shape[2:])
    return lpips(a, b).reshape(n, t - 1)


@torch.no_grad()
def tlp_timecycle(real: Tensor, fake: Tensor, lpips: Callable[[Tensor, Tensor], Tensor]) -> float:
    """TimeCycleGAN tLP (see the module docstring)."""
    if real.shape != fake.shape or real.dim() != 5:
        raise ValueError(
            f"tlp_timecycle expects two (N, T, C, H, W) sequences of one shape, got {real.shape}, {fake.shape}"
        )
    if real.shape[1] < 2:
        raise ValueError("tlp_timecycle needs at least 2 frames")
    return float((tlp_pairs(real, lpips) - tlp_pairs(fake, lpips)).abs().mean())


def tof_timecycle_from_flows(flow_real: Tensor, flow_fake: Tensor) -> float:
    """Reduction of TimeCycleGAN's tOF from per-pair flows (N, T-1, 2, H, W): mean over pairs of the sum over
    batch, components and pixels of |F_real - F_fake|."""
    if flow_real.shape != flow_fake.shape or flow_real.dim() != 5 or flow_real.shape[2] != 2:
        raise ValueError(f"expected two (N, T-1, 2, H, W) flow tensors, got {flow_real.shape}, {flow_fake.shape}")
    d = (flow_real.double() - flow_fake.double()).abs()
    return float(d.sum(dim=(0, 2, 3, 4)).mean())


@torch.no_grad()
def tof_timecycle(real: Tensor, fake: Tensor, flow: Callable[[Tensor, Tensor], Tensor]) -> float:
    """TimeCycleGAN tOF with ``flow(frame_t, frame_{t+1})`` as the estimator."""
    if real.shape != fake.shape or real.dim() != 5:
        raise ValueError(
            f"tof_timecycle expects two (N, T, C, H, W) sequences of one shape, got {real.shape}, {fake.shape}"
        )

    def flows(seq: Tensor) -> Tensor:
        n, t = seq.shape[:2]
        a = seq[:, :-1].reshape(n * (t - 1), *seq.shape[2:])
        b = seq[:, 1:].reshape(n * (t - 1), *seq.shape[2:])
        f = flow(a, b)
        f = f[0] if isinstance(f, tuple) else f
        return f.reshape(n, t - 1, *f.shape[1:])

    return tof_timecycle_from_flows(flows(real), flows(fake))
