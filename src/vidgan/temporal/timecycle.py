"""The TimeCycle loss (Altenberger, TimeCycleGAN; spec §1) as a composable ``nn.Module``.

A motion model M (by default one ``resnet_1blocks`` image generator shared by the forward and the
backward direction) rolls the generated clip back from its last frame and forward again:

* long prediction  p^L_k = M_b([x_k, p^L_{k+1}]) from p^L_L = y_L (recursive backward chain);
* skip prediction  p^S_k = M_b([x_k, y_L]) (direct jump);
* long reconstruction  r^L_k: L - k forward steps M_f([x_j, z]) from p^L_k back to frame L;
* skip reconstruction  r^S_k = M_f([x_L, p^S_k]).

L_TC = 1 / (n_terms L) * sum_k [d(r^L_k, y_L) + d(r^S_k, y_L) + d(p^L_k, y_k) + d(p^S_k, y_k)], with
L = T - 1 after dropping ``ignore_first`` frames. Nothing is detached: gradients reach G and M, so M's
parameters go into G's optimizer (``tc.parameters()`` lists a shared M once: the official double Adam step
on a shared M is fixed by construction). Modes: ``conditional`` (M input = [condition_k, frame]),
``unconditional`` (M input = two frames (further, nearer); L = T - 2; long rollouts only) and ``pingpong``
(the main generator, passed to :meth:`rollout`, is the backward model; long prediction only).

Layout: sequences are (N, T, C, H, W) (lists of (N, C, H, W) are accepted); rollouts are (N, L, C, H, W)
with index k belonging to frame k of the dropped sequence.

Official quirks kept by default, each with a named switch (spec §10):
``normalize_warp_by_L=False`` (the TimeCycle warp term is not divided by L), ``rec_conditioning="frame"``
(reconstructions of frame L judged with condition k), ``warp_order="official"`` (unconditional mode: the
backward warp half feeds (nearer, further)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from vidgan.losses.gan import d_loss, g_loss

from .nets import define_generator

__all__ = ["TimeCycleLoss", "TimeCycle", "Rollout", "gan_kind", "as_sequence", "gan_real", "gan_fake"]

Mode = Literal["conditional", "unconditional", "pingpong"]

_GAN_NAMES = {
    "lsgan": "lsgan",
    "vanilla": "bce",
    "bce": "bce",
    "wgangp": "wgan",
    "wgan": "wgan",
    "hinge": "hinge",
    "logistic": "logistic",
}


def gan_kind(name: str) -> str:
    """Official GAN mode names (lsgan, vanilla, wgangp) -> :mod:`vidgan.losses.gan` kinds."""
    if name not in _GAN_NAMES:
        raise ValueError(f"unknown GAN loss {name!r}: use one of {', '.join(_GAN_NAMES)}")
    return _GAN_NAMES[name]


def gan_real(kind: str, pred: Tensor) -> Tensor:
    """D-side criterion against label 1 (mean)."""
    return d_loss(gan_kind(kind), pred, None)["real"]


def gan_fake(kind: str, pred: Tensor) -> Tensor:
    """D-side criterion against label 0 (mean)."""
    return d_loss(gan_kind(kind), None, pred)["fake"]


def gan_gen(kind: str, pred: Tensor) -> Tensor:
    """G-side criterion (mean)."""
    return g_loss(gan_kind(kind), pred)


def as_sequence(x: Tensor | Sequence[Tensor] | None) -> Tensor | None:
    """(N, T, C, H, W) tensor or a chronological list of (N, C, H, W) -> (N, T, C, H, W)."""
    if x is None or isinstance(x, Tensor):
        if x is not None and x.dim() != 5:
            raise ValueError(f"expected a (N, T, C, H, W) sequence, got shape {tuple(x.shape)}")
        return x
    return torch.stack(list(x), 1)


def _fold(x: Tensor) -> Tensor:
    """(N, K, C, H, W) -> (N*K, C, H, W) (sample-major)."""
    return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])


def _unfold(x: Tensor, n: int) -> Tensor:
    return x.reshape(n, x.shape[0] // n, *x.shape[1:])


def _expand_frame(frame: Tensor, k: int) -> Tensor:
    """(N, C, H, W) -> (N, k, C, H, W) view."""
    return frame.unsqueeze(1).expand(-1, k, *frame.shape[1:])


@dataclass
class Rollout:
    """One TimeCycle rollout. ``frames``/``cond``: the sequences after the frame drop; the four lists are
    (N, L, C, H, W) or None (not computed in this mode / term set)."""

    frames: Tensor
    cond: Tensor | None
    L: int
    mode: str
    pred_long: Tensor | None = None
    pred_skip: Tensor | None = None
    rec_long: Tensor | None = None
    rec_skip: Tensor | None = None

    def fakes(self) -> dict[str, Tensor]:
        """The motion-model outputs present, by name."""
        out = {}
        for name in ("pred_long", "pred_skip", "rec_long", "rec_skip"):
            v = getattr(self, name)
            if v is not None:
                out[name] = v
        return out


class TimeCycleLoss(nn.Module):
    """TimeCycle loss with its motion model(s); see the module docstring.

    Args:
        frame_channels: C of the generated frames.
        cond_channels: C of the conditioning frames (conditional mode).
        mode: ``conditional`` | ``unconditional`` | ``pingpong``.
        motion_model: the (shared) motion model; default: ``motion_architecture`` with ``motion_filters``.
        separate_models: separate forward and backward models (``motion_model_forward`` may give the
            forward one).
        distance: ``l1`` (official default) or ``l2`` (MSE) for the TimeCycle terms.
        weight: lambda_TC.
        ignore_first: frames dropped first (paired models: 1, the frame generated from the noise placeholder).
        terms: rollouts used, ``("long", "skip")`` (conditional default) or ``("long",)``.
        warp_weight: weight of the TimeCycle warp term (spec §1.6, gradients into G only).
        normalize_warp_by_L: divide the warp term by L (official: not divided; the logged value is).
        rec_conditioning: ``frame`` (official: reconstruction k judged with condition k) or ``last``.
        warp_order: unconditional backward warp input order, ``official`` (nearer, further) or ``rollout``.
    """

    def __init__(
        self,
        frame_channels: int = 3,
        cond_channels: int = 0,
        mode: Mode = "conditional",
        motion_model: nn.Module | None = None,
        separate_models: bool = False,
        motion_model_forward: nn.Module | None = None,
        motion_architecture: str = "resnet_1blocks",
        motion_filters: int = 64,
        distance: Literal["l1", "l2"] = "l1",
        weight: float = 1.0,
        ignore_first: int = 0,
        terms: Sequence[str] | None = None,
        warp_weight: float = 0.0,
        normalize_warp_by_L: bool = False,
        rec_conditioning: Literal["frame", "last"] = "frame",
        warp_order: Literal["official", "rollout"] = "official",
    ) -> None:
        super().__init__()
        if mode not in ("conditional", "unconditional", "pingpong"):
            raise ValueError(f"unknown TimeCycle mode {mode!r}: use conditional, unconditional or pingpong")
        if distance not in ("l1", "l2"):
            raise ValueError(f"distance must be 'l1' or 'l2', got {distance!r}")
        if rec_conditioning not in ("frame", "last") or warp_order not in ("official", "rollout"):
            raise ValueError("rec_conditioning must be frame|last and warp_order official|rollout")
        if mode == "conditional" and cond_channels <= 0:
            raise ValueError("conditional TimeCycle needs cond_channels > 0 (the channels of the condition)")
        if terms is None:
            terms = ("long", "skip") if mode == "conditional" else ("long",)
        terms = tuple(terms)
        if not terms or any(t not in ("long", "skip") for t in terms):
            raise ValueError(f"terms must be a non-empty subset of ('long', 'skip'), got {terms}")
        if mode != "conditional" and "skip" in terms:
            raise ValueError(f"{mode} TimeCycle has long rollouts only (terms=('long',))")
        self.frame_channels, self.cond_channels = frame_channels, cond_channels
        self.mode, self.distance, self.weight = mode, distance, float(weight)
        self.ignore_first, self.terms = int(ignore_first), terms
        self.warp_weight, self.normalize_warp_by_L = float(warp_weight), normalize_warp_by_L
        self.rec_conditioning, self.warp_order = rec_conditioning, warp_order
        self.separate = bool(separate_models or motion_model_forward is not None)
        if mode == "pingpong":
            if motion_model is not None or self.separate:
                raise ValueError("pingpong mode uses the main generator as the backward model: no motion model")
            return
        cin = cond_channels + frame_channels if mode == "conditional" else 2 * frame_channels

        def make() -> nn.Module:
            return define_generator(motion_architecture, cin, frame_channels, motion_filters)

        if self.separate:
            self.motion_backward = motion_model if motion_model is not None else make()
            self.motion_forward = motion_model_forward if motion_model_forward is not None else make()
        else:
            self.motion = motion_model if motion_model is not None else make()

    # ------------------------------------------------------------------------------------ models
    @property
    def m_backward(self) -> nn.Module:
        return self.motion_backward if self.separate else self.motion

    @property
    def m_forward(self) -> nn.Module:
        return self.motion_forward if self.separate else self.motion

    @property
    def n_terms(self) -> int:
        if self.mode == "pingpong":
            return 1
        return 2 * len(self.terms)

    def span(self, frames: int) -> int:
        """L for a clip of ``frames`` frames (before the drop)."""
        t = frames - self.ignore_first
        return t - 2 if self.mode == "unconditional" else t - 1

    # ------------------------------------------------------------------------------------ rollout
    def rollout(
        self,
        fake: Tensor | Sequence[Tensor],
        cond: Tensor | Sequence[Tensor] | None = None,
        backward_model: nn.Module | None = None,
    ) -> Rollout:
        """Run the motion model(s) on the generated clip ``fake`` (conditioned on ``cond``)."""
        y = as_sequence(fake)
        x = as_sequence(cond)
        assert y is not None
        if self.mode in ("conditional", "pingpong") and x is None:
            raise ValueError(f"{self.mode} TimeCycle needs the condition sequence")
        y = y[:, self.ignore_first :]
        x = None if x is None else x[:, self.ignore_first :]
        if x is not None and x.shape[1] != y.shape[1]:
            raise ValueError(f"fake has {y.shape[1]} frames but cond has {x.shape[1]} (after the drop)")
        big_l = y.shape[1] - (2 if self.mode == "unconditional" else 1)
        r = Rollout(frames=y, cond=x, L=big_l, mode=self.mode)
        if big_l <= 0:
            return r
        if self.mode == "conditional":
            self._conditional(r)
        elif self.mode == "unconditional":
            self._unconditional(r)
        else:
            if backward_model is None:
                raise ValueError("pingpong TimeCycle: pass backward_model=<the main generator>")
            self._pingpong(r, backward_model)
        return r

    def _conditional(self, r: Rollout) -> None:
        y, x, big_l = r.frames, r.cond, r.L
        assert x is not None
        n = y.shape[0]
        mb, mf = self.m_backward, self.m_forward
        y_last = y[:, big_l]
        if "long" in self.terms:
            preds: list[Tensor] = [y_last]
            for k in range(big_l - 1, -1, -1):
                preds.append(mb(torch.cat([x[:, k], preds[-1]], 1)))
            pl = torch.stack(preds[1:][::-1], 1)  # (N, L, C, H, W), chronological
            r.pred_long = pl
            # long reconstruction, batched over k: at step j every chain with k < j advances
            cur = [pl[:, k] for k in range(big_l)]
            for j in range(1, big_l + 1):
                active = torch.stack(cur[:j], 1)  # (N, j, C, H, W)
                inp = torch.cat([_expand_frame(x[:, j], j), active], 2)
                out = _unfold(mf(_fold(inp)), n)
                cur[:j] = list(out.unbind(1))
            r.rec_long = torch.stack(cur, 1)
        if "skip" in self.terms:
            inp = torch.cat([x[:, :big_l], _expand_frame(y_last, big_l)], 2)
            ps = _unfold(mb(_fold(inp)), n)
            r.pred_skip = ps
            inp = torch.cat([_expand_frame(x[:, big_l], big_l), ps], 2)
            r.rec_skip = _unfold(mf(_fold(inp)), n)

    def _unconditional(self, r: Rollout) -> None:
        y, big_l = r.frames, r.L
        n = y.shape[0]
        mb, mf = self.m_backward, self.m_forward
        p: dict[int, Tensor] = {big_l + 1: y[:, big_l + 1], big_l: y[:, big_l]}
        for k in range(big_l - 1, -1, -1):
            p[k] = mb(torch.cat([p[k + 2], p[k + 1]], 1))  # (further, nearer) -> next
        r.pred_long = torch.stack([p[k] for k in range(big_l)], 1)
        # reconstruction of frame L+1 from (p_k, p_{k+1}): L - k forward steps, batched over k
        a = [p[k] for k in range(big_l)]
        b = [p[k + 1] for k in range(big_l)]
        for s in range(1, big_l + 1):
            m = big_l - s + 1  # chains k = 0 .. L - s still need this step
            inp = torch.cat([torch.stack(a[:m], 1), torch.stack(b[:m], 1)], 2)
            c = list(_unfold(mf(_fold(inp)), n).unbind(1))
            a[:m], b[:m] = b[:m], c
        r.rec_long = torch.stack(b, 1)

    def _pingpong(self, r: Rollout, gen: nn.Module) -> None:
        y, x, big_l = r.frames, r.cond, r.L
        assert x is not None
        preds = [y[:, big_l]]
        for k in range(big_l - 1, -1, -1):
            preds.append(gen(torch.cat([x[:, k], preds[-1]], 1)))
        r.pred_long = torch.stack(preds[1:][::-1], 1)

    # ------------------------------------------------------------------------------------ G side
    def _dist_sum(self, a: Tensor, b: Tensor) -> Tensor:
        """sum over k of d(a_k, b_k) with d the mean over (N, C, H, W); a, b (N, L, C, H, W)."""
        diff = a.float() - b.float()
        e = diff.abs() if self.distance == "l1" else diff.square()
        return e.mean(dim=(0, 2, 3, 4)).sum()

    def terms_dict(self, r: Rollout) -> dict[str, Tensor]:
        """Unweighted terms: ``cycle_long``, ``cycle_skip``, ``temp_long``, ``temp_skip`` (each summed over k
        and divided by L, as logged officially) and ``combined`` = L_TC."""
        zero = r.frames.new_zeros((), dtype=torch.float32)
        out = {"cycle_long": zero, "cycle_skip": zero, "temp_long": zero, "temp_skip": zero, "combined": zero}
        if r.L <= 0:
            return out
        y, big_l = r.frames, r.L
        if self.mode == "unconditional":
            target_last = y[:, big_l + 1]
        else:
            target_last = y[:, big_l]
        last = _expand_frame(target_last, big_l)
        total = zero
        for name, key, target in (
            ("rec_long", "cycle_long", last),
            ("rec_skip", "cycle_skip", last),
            ("pred_long", "temp_long", y[:, :big_l]),
            ("pred_skip", "temp_skip", y[:, :big_l]),
        ):
            v = getattr(r, name)
            if v is None:
                continue
            s = self._dist_sum(v, target)
            out[key] = s / big_l
            total = total + s
        out["combined"] = total / (self.n_terms * big_l)
        return out

    def warp_sum(self, r: Rollout) -> Tensor:
        """The TimeCycle warp term summed over k (spec §1.6): M's outputs detached, targets not."""
        y, x, big_l = r.frames, r.cond, r.L
        zero = y.new_zeros((), dtype=torch.float32)
        if big_l <= 0 or self.mode == "pingpong":
            return zero
        n = y.shape[0]
        mb, mf = self.m_backward, self.m_forward
        with torch.no_grad():
            if self.mode == "conditional":
                assert x is not None
                fwd = mf(_fold(torch.cat([x[:, 1 : big_l + 1], y[:, :big_l]], 2)))
                bwd = mb(_fold(torch.cat([x[:, :big_l], y[:, 1 : big_l + 1]], 2)))
                fwd_target, bwd_target = y[:, 1 : big_l + 1], y[:, :big_l]
            else:
                fwd = mf(_fold(torch.cat([y[:, :big_l], y[:, 1 : big_l + 1]], 2)))
                if self.warp_order == "official":  # (nearer, further) -> y_k, as released
                    pair = [y[:, 1 : big_l + 1], y[:, 2 : big_l + 2]]
                else:  # (further, nearer), as the rollout feeds M_b
                    pair = [y[:, 2 : big_l + 2], y[:, 1 : big_l + 1]]
                bwd = mb(_fold(torch.cat(pair, 2)))
                fwd_target, bwd_target = y[:, 2 : big_l + 2], y[:, :big_l]
        fwd, bwd = _unfold(fwd, n), _unfold(bwd, n)
        l1 = lambda a, b: (a.float() - b.float()).abs().mean(dim=(0, 2, 3, 4)).sum()  # noqa: E731
        return l1(fwd, fwd_target) + l1(bwd, bwd_target)

    def generator_loss(self, r: Rollout, return_parts: bool = False):
        """weight * L_TC + warp_weight * warp term (not divided by L unless ``normalize_warp_by_L``).

        ``return_parts=True`` returns ``(loss, parts)`` with the unweighted terms, ``warp`` (the value used,
        unweighted) and ``warp_logged`` (warp sum / L, the official log)."""
        parts = self.terms_dict(r)
        loss = self.weight * parts["combined"]
        if self.warp_weight and r.L > 0 and self.mode != "pingpong":
            ws = self.warp_sum(r)
            used = ws / r.L if self.normalize_warp_by_L else ws
            parts["warp"], parts["warp_logged"] = used, ws / r.L
            loss = loss + self.warp_weight * used
        return (loss, parts) if return_parts else loss

    # ------------------------------------------------------------------------------------ adversarial
    def _cond_for(self, name: str, d_cond: Tensor | None, big_l: int) -> Tensor | None:
        if d_cond is None:
            return None
        if name.startswith("rec") and self.rec_conditioning == "last":
            return _expand_frame(d_cond[:, big_l], big_l)
        return d_cond[:, :big_l]

    @staticmethod
    def _frame_d(disc: nn.Module, frames: Tensor, cond: Tensor | None) -> Tensor:
        """D on (N, K, C, H, W) frames (conditioned channel-first on (N, K, Cc, H, W)), batched over K."""
        inp = frames if cond is None else torch.cat([cond, frames], 2)
        out = disc(_fold(inp))
        return out[0] if isinstance(out, tuple) else out

    def _drop(self, seq: Tensor | Sequence[Tensor] | None) -> Tensor | None:
        s = as_sequence(seq)
        return None if s is None else s[:, self.ignore_first :]

    def adversarial_d(
        self,
        r: Rollout,
        disc: nn.Module,
        gan: str = "lsgan",
        real: Tensor | Sequence[Tensor] | None = None,
        cond: Tensor | Sequence[Tensor] | None = None,
        n_frames: int = 1,
        return_parts: bool = False,
    ):
        """D loss of a TimeCycle discriminator (fakes detached). ``real``/``cond``: the real sequence and
        the D conditioning (undropped; paired models: the real target and the source; None: unconditioned).
        ``n_frames=1``: the frame D judges every motion-model output (spec §1.5); ``> 1``: a sequence D on
        the L + 1 frames (conditional mode)."""
        real_s, cond_s = self._drop(real), self._drop(cond)
        if real_s is None:
            raise ValueError("adversarial_d needs the real sequence")
        zero = r.frames.new_zeros((), dtype=torch.float32)
        if r.L <= 0:
            return (zero, {}) if return_parts else zero
        big_l = r.L
        parts: dict[str, Tensor] = {}
        if n_frames == 1:
            parts["real"] = gan_real(gan, self._frame_d(disc, real_s[:, :big_l], self._cond_for("", cond_s, big_l)))
            fakes = []
            for name, v in r.fakes().items():
                parts[f"fake_{name}"] = gan_fake(
                    gan, self._frame_d(disc, v.detach(), self._cond_for(name, cond_s, big_l))
                )
                fakes.append(parts[f"fake_{name}"])
            parts["fake"] = torch.stack(fakes).mean()
        else:
            seqs = self._seq_fakes(r, n_frames)
            parts["real"] = gan_real(gan, self._seq_d(disc, real_s[:, : big_l + 1], cond_s, big_l))
            fakes = []
            for name, v in seqs.items():
                parts[f"fake_{name}"] = gan_fake(gan, self._seq_d(disc, v.detach(), cond_s, big_l))
                fakes.append(parts[f"fake_{name}"])
            parts["fake"] = torch.stack(fakes).mean()
        loss = 0.5 * (parts["real"] + parts["fake"])
        parts["total"] = loss
        return (loss, parts) if return_parts else loss

    def adversarial_g(
        self,
        r: Rollout,
        disc: nn.Module,
        gan: str = "lsgan",
        cond: Tensor | Sequence[Tensor] | None = None,
        n_frames: int = 1,
        return_parts: bool = False,
    ):
        """G term of a TimeCycle discriminator (added with weight 1 officially): the mean over the motion-model
        outputs of the GAN criterion against "real"."""
        cond_s = self._drop(cond)
        zero = r.frames.new_zeros((), dtype=torch.float32)
        if r.L <= 0:
            return (zero, {}) if return_parts else zero
        big_l = r.L
        parts: dict[str, Tensor] = {}
        if n_frames == 1:
            for name, v in r.fakes().items():
                parts[name] = gan_gen(gan, self._frame_d(disc, v, self._cond_for(name, cond_s, big_l)))
        else:
            for name, v in self._seq_fakes(r, n_frames).items():
                parts[name] = gan_gen(gan, self._seq_d(disc, v, cond_s, big_l))
        loss = torch.stack(list(parts.values())).mean()
        parts["total"] = loss
        return (loss, parts) if return_parts else loss

    def _seq_fakes(self, r: Rollout, n_frames: int) -> dict[str, Tensor]:
        if self.mode != "conditional":
            raise ValueError("a TimeCycle sequence discriminator needs conditional mode (spec §1.5)")
        if n_frames != r.L + 1:
            raise ValueError(f"a TimeCycle sequence D sees L + 1 = {r.L + 1} frames, got n_frames={n_frames}")
        last = r.frames[:, r.L : r.L + 1]
        out = {}
        if r.pred_long is not None:
            out["long"] = torch.cat([r.pred_long, last], 1)
        if r.pred_skip is not None:
            out["skip"] = torch.cat([r.pred_skip, last], 1)
        return out

    @staticmethod
    def _seq_d(disc: nn.Module, frames: Tensor, cond: Tensor | None, big_l: int) -> Tensor:
        """(N, L+1, C, H, W) -> channel-concatenated frames (conditions first) -> D."""
        x = frames.flatten(1, 2)
        if cond is not None:
            x = torch.cat([cond[:, : big_l + 1].flatten(1, 2), x], 1)
        out = disc(x)
        return out[0] if isinstance(out, tuple) else out

    # ------------------------------------------------------------------------------------ logging
    def log_dict(self, r: Rollout) -> dict[str, float]:
        """Detached scalar logs of the G-side terms (names as the official ``Timecycle/...`` scalars)."""
        with torch.no_grad():
            _, parts = self.generator_loss(r, return_parts=True)
        return {k: float(v) for k, v in parts.items()}

    def images(self, r: Rollout) -> dict[str, Tensor]:
        """Rollout sequences (N, L, C, H, W), detached, for image grids."""
        return {k: v.detach() for k, v in r.fakes().items()}


TimeCycle = TimeCycleLoss
