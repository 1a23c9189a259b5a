"""Multi-scale sequence discriminator over frame windows (TimeCycleGAN's ``SeqDMixin``, spec §2.3).

One image discriminator per temporal scale s = 0 .. S-1 judges windows of ``n_frames`` frames stacked
along channels. At scale s the frame step is n^s and a window spans (n - 1) n^s frames; after dropping
``ignore_first`` frames there are W = floor((T - ignore - 1) / span) windows, window j using frames
ignore + j*span + m*n^s (m = 0 .. n-1), consecutive windows sharing an endpoint. Per scale:

* D: ½ (mean_w l(D(real_w), 1) + mean_w l(D(fake_w), 0)), fakes detached;
* G: mean_w l(D(fake_w), 1) + fm_weight * FM, FM = sum_w sum_blocks L1(feat(fake_w), sg(feat(real_w))) over
  the intermediate blocks (final map excluded), summed over windows as released (``fm_reduction="mean"``
  averages over windows and blocks instead).

Scales without a window contribute 0; totals are sums over scales. Windows of a scale go through D as
one batch (D uses per-sample instance norm, so this equals separate calls).

``fm_mode="official"`` reproduces the released feature-list quirk with more than one window: all windows
of a scale share one list and each D call deletes the list's first entry instead of its own input, so
window 1 loses its first W - 1 features and windows 2..W add their raw (stacked-frame) inputs, i.e. a
pixel L1 between fake and real windows. The default ``"window"`` is the intended per-window matching
(identical with one window, the CLI default n_frames_D = B).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from .nets import define_discriminator
from .timecycle import as_sequence, gan_fake, gan_gen, gan_real

__all__ = ["SequenceDiscriminatorLoss", "window_indices"]


def window_indices(
    frames: int, n_frames: int, temporal_scales: int = 1, ignore_first: int = 0
) -> list[list[list[int]]]:
    """Frame indices of every window, per scale: ``out[s][j]`` = the n_frames indices of window j."""
    if n_frames < 2:
        raise ValueError(f"a sequence discriminator needs n_frames >= 2, got {n_frames}")
    out = []
    for s in range(temporal_scales):
        step = n_frames**s
        span = (n_frames - 1) * step
        count = max(0, (frames - ignore_first - 1) // span)
        out.append([[ignore_first + j * span + m * step for m in range(n_frames)] for j in range(count)])
    return out


class SequenceDiscriminatorLoss(nn.Module):
    """The discriminators (``self.discriminators[s]``, one per scale) and their D / G terms.

    Args:
        frame_channels: C of a frame; D input = n_frames * (C + cond_channels).
        n_frames: frames per window (``n_frames_D``).
        temporal_scales: number of scales (frame steps 1, n, n^2, ...).
        ignore_first: frames dropped before windowing (``n_frames_ignored``).
        cond_channels: > 0: a conditional sequence D, windows of the condition stacked first.
        make_d: ``in_channels -> nn.Module`` builder (default: ``architecture``/``ndf`` via
            :func:`~vidgan.temporal.nets.define_discriminator`). D must accept ``features=True`` for FM.
        gan: GAN criterion (``lsgan``, ``vanilla``/``bce``, ``wgangp``/``wgan``, ``hinge``).
        fm_weight: feature-matching weight (0 = off).
        fm_mode: ``window`` (default, intended) or ``official`` (the released shared-list quirk).
        fm_reduction: ``sum`` over windows and blocks (official) or ``mean``.
    """

    def __init__(
        self,
        frame_channels: int = 3,
        n_frames: int = 3,
        temporal_scales: int = 1,
        ignore_first: int = 0,
        cond_channels: int = 0,
        make_d: Callable[[int], nn.Module] | None = None,
        architecture: str = "basic",
        ndf: int = 64,
        gan: str = "lsgan",
        fm_weight: float = 0.0,
        fm_mode: Literal["window", "official"] = "window",
        fm_reduction: Literal["sum", "mean"] = "sum",
    ) -> None:
        super().__init__()
        if n_frames < 2 or temporal_scales < 1:
            raise ValueError(f"need n_frames >= 2 and temporal_scales >= 1, got {n_frames}, {temporal_scales}")
        if fm_mode not in ("window", "official") or fm_reduction not in ("sum", "mean"):
            raise ValueError("fm_mode must be window|official and fm_reduction sum|mean")
        cin = n_frames * (frame_channels + cond_channels)
        build = make_d or (lambda c: define_discriminator(architecture, c, ndf))
        self.discriminators = nn.ModuleList(build(cin) for _ in range(temporal_scales))
        self.n_frames, self.temporal_scales, self.ignore_first = n_frames, temporal_scales, ignore_first
        self.cond_channels, self.gan = cond_channels, gan
        self.fm_weight, self.fm_mode, self.fm_reduction = float(fm_weight), fm_mode, fm_reduction

    def windows(self, frames: int) -> list[list[list[int]]]:
        return window_indices(frames, self.n_frames, self.temporal_scales, self.ignore_first)

    def _stack(self, seq: Tensor, cond: Tensor | None, wins: list[list[int]]) -> Tensor:
        """(N, T, C, H, W) -> windows folded into the batch: (N*W, n*(Cc+C), H, W), window-minor."""
        idx = torch.tensor(wins, device=seq.device).flatten()
        x = seq[:, idx].reshape(seq.shape[0], len(wins), self.n_frames * seq.shape[2], *seq.shape[-2:])
        if cond is not None:
            c = cond[:, idx].reshape(cond.shape[0], len(wins), self.n_frames * cond.shape[2], *cond.shape[-2:])
            x = torch.cat([c, x], 2)
        return x.flatten(0, 1)

    @staticmethod
    def _call(disc: nn.Module, x: Tensor, features: bool):
        if features:
            return disc(x, features=True)
        out = disc(x)
        return out[0] if isinstance(out, tuple) else out

    def _check(self, seq: Tensor | Sequence[Tensor], cond) -> tuple[Tensor, Tensor | None]:
        s = as_sequence(seq)
        c = as_sequence(cond)
        assert s is not None
        if (c is None) != (self.cond_channels == 0):
            raise ValueError("pass cond exactly when the sequence D was built with cond_channels > 0")
        return s, c

    def d_loss(
        self,
        real: Tensor | Sequence[Tensor],
        fake: Tensor | Sequence[Tensor],
        cond: Tensor | Sequence[Tensor] | None = None,
        return_parts: bool = False,
    ):
        """Sum over scales of ½ (real + fake) terms; fakes detached. Parts: ``real/<s>``, ``fake/<s>``, ``<s>``."""
        real_s, c = self._check(real, cond)
        fake_s = as_sequence(fake).detach()
        total = real_s.new_zeros((), dtype=torch.float32)
        parts: dict[str, Tensor] = {}
        for s, wins in enumerate(self.windows(real_s.shape[1])):
            if not wins:
                continue
            disc = self.discriminators[s]
            lr = gan_real(self.gan, self._call(disc, self._stack(real_s, c, wins), False))
            lf = gan_fake(self.gan, self._call(disc, self._stack(fake_s, c, wins), False))
            parts[f"real/{s}"], parts[f"fake/{s}"] = lr, lf
            parts[str(s)] = 0.5 * (lr + lf)
            total = total + parts[str(s)]
        return (total, parts) if return_parts else total

    def g_loss(
        self,
        fake: Tensor | Sequence[Tensor],
        real: Tensor | Sequence[Tensor] | None = None,
        cond: Tensor | Sequence[Tensor] | None = None,
        return_parts: bool = False,
    ):
        """Sum over scales of the G term (+ fm_weight * FM, which needs ``real``). Parts: ``gan/<s>``, ``fm/<s>``."""
        fake_s, c = self._check(fake, cond)
        use_fm = self.fm_weight != 0
        if use_fm and real is None:
            raise ValueError("feature matching needs the real sequence: g_loss(fake, real)")
        total = fake_s.new_zeros((), dtype=torch.float32)
        parts: dict[str, Tensor] = {}
        for s, wins in enumerate(self.windows(fake_s.shape[1])):
            if not wins:
                continue
            disc = self.discriminators[s]
            xf = self._stack(fake_s, c, wins)
            if use_fm:
                out, feats_f = self._call(disc, xf, True)
            else:
                out = self._call(disc, xf, False)
            parts[f"gan/{s}"] = gan_gen(self.gan, out)
            total = total + parts[f"gan/{s}"]
            if use_fm:
                real_s = as_sequence(real)
                xr = self._stack(real_s, c, wins)
                with torch.no_grad():
                    _, feats_r = self._call(disc, xr, True)
                parts[f"fm/{s}"] = self.feature_matching(feats_f, feats_r, xf, xr, fake_s.shape[0], len(wins))
                total = total + self.fm_weight * parts[f"fm/{s}"]
        return (total, parts) if return_parts else total

    def feature_matching(
        self, feats_fake: list[Tensor], feats_real: list[Tensor], x_fake: Tensor, x_real: Tensor, n: int, w: int
    ) -> Tensor:
        """FM of one scale from batched features (N*W, ...) (see the module docstring for the two modes)."""

        def per_window(a: Tensor, b: Tensor) -> list[Tensor]:
            d = (a.float() - b.float().detach()).abs()
            return list(d.reshape(n, w, -1).mean(dim=(0, 2)).unbind(0))

        blocks = [per_window(a, b) for a, b in zip(feats_fake, feats_real, strict=True)]  # [block][window]
        if self.fm_mode == "window":
            terms = [blocks[i][j] for j in range(w) for i in range(len(blocks))]
        else:
            inputs = per_window(x_fake, x_real)
            terms = [blocks[i][0] for i in range(len(blocks))]
            for j in range(1, w):
                terms += [inputs[j]] + [blocks[i][j] for i in range(len(blocks))]
            terms = terms[w - 1 :]
        stacked = torch.stack(terms)
        return stacked.sum() if self.fm_reduction == "sum" else stacked.mean()
