"""The contract between a model family and the rest of vidgan (v2).

A family is a module — a folder ``vidgan.families.<name>`` or a module of another package registered in
the entry-point group ``vidgan.families`` — that exposes:

* ``Config``: a frozen dataclass subclassing :class:`FamilyConfig` (defaults = the released model; ``name``
  equals the family name, ``task`` says how the trained model is used);
* ``PRESETS``: ``dict[str, dict]`` of nested override dicts applied to the default run config of the family
  (keys ``family``, ``data``, ``train``); it must contain ``"tiny"`` (tests) and may set ``DEFAULT_PRESET``;
* ``build(cfg: Config, data: DataSpec) -> Parts``. ``data`` is the run's data specification (the
  ``data`` section of the run config: clip size, frames, sampler, scale, degradation, ...). The data
  section is the one owner of those settings: the family reads them from ``data`` and raises
  :class:`DataMismatch` (a ``ValueError``) naming both fields when its own config cannot serve them;
* optionally ``SAMPLERS``: ``{name: sampler}`` extra data samplers, selectable as ``data.sampler=<name>`` in runs
  of this family: an object with ``example(dataset, index, rng) -> dict of tensors`` (optionally
  ``min_length(data) -> int`` and ``check(data)``), or a frame-time function ``(rng, length, frames, max_dist)
  -> int64 (F,)`` like ``vidgan.data.samplers.random_times`` (examples then carry ``video`` and ``times``);
* optionally ``DATA_SAMPLERS``: the data samplers the objective trains on (``vidgan train`` refuses others);
* optionally ``convert.import_weights(src: Path, out: Path) -> Path`` for official checkpoints
  (``vidgan weights import <name> SRC OUT``), and ``load_foreign(path) -> ForeignWeights | None`` to use a
  checkpoint that is not a vidgan checkpoint (e.g. a reference implementation's ``.pth``) for inference.

The engine (``vidgan.engine``) only ever sees :class:`Parts`: it steps the :class:`Phase` list in order
each iteration, calls the :class:`Objective` for the named, already-weighted loss terms of a phase, sums
them, back-propagates, and steps that phase's optimizer. It never knows what a GAN loss is.

After training a family is used through what :class:`Parts` declares for its task:

* ``unconditional``: ``Parts.sample`` draws videos from the module in role ``sample_role`` (its EMA when
  kept) — ``vidgan generate``;
* ``vsr`` / ``translation``: ``Parts.stream`` makes a :class:`Stream` from the modules in ``stream_roles``:
  frames in, frames out, recurrent state carried, memory constant in the video length — ``vidgan upscale``
  and ``vidgan translate``. ``eval_keys`` names the (input, target) batch keys, so ``--eval`` during training
  streams a fixed validation set through it and scores the outputs against the targets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch
from torch import Tensor, nn

Task = Literal["unconditional", "vsr", "translation"]

__all__ = [
    "Task",
    "FamilyConfig",
    "DataSpec",
    "DataMismatch",
    "Phase",
    "StepContext",
    "Objective",
    "Stateful",
    "SampleOptions",
    "Sampler",
    "StreamOptions",
    "Stream",
    "StreamFactory",
    "ForeignWeights",
    "Parts",
    "count_parameters",
    "require",
]


@dataclass(frozen=True)
class FamilyConfig:
    """Base of every family's ``Config``. Subclasses add typed fields with the released defaults."""

    name: str = ""
    task: Task = "unconditional"


class DataSpec(Protocol):
    """What a family may read of the run's data section (``vidgan.data.config.DataConfig``)."""

    source: str
    sampler: str
    frames: int  # clip length T (random_t: frames per video)
    size: int  # H = W of the (HR / target) clips
    subsample_frame: tuple[int, ...]  # multilevel sampler factors
    max_dist: int  # random_t: largest span between first and last frame
    scale: int  # paired: HR / LR factor
    degradation: str  # paired: "bd" | "bi"
    sigma: float  # paired: BD Gaussian sigma
    pairing: str  # translation: "paired" | "unpaired"


class DataMismatch(ValueError):
    """The run's data section asks for something the family config cannot serve; the message names both."""


def require(ok: bool, family_field: str, data_field: str, why: str) -> None:
    """Raise :class:`DataMismatch` ``"<data_field> vs <family_field>: <why>"`` unless ``ok``."""
    if not ok:
        raise DataMismatch(f"{data_field} vs {family_field}: {why}")


@dataclass(frozen=True)
class Phase:
    """One optimisation phase of a training iteration (the stylegan3 idea).

    name:       stable name used in logs, e.g. ``"G"``, ``"D"``, ``"Dreg"``.
    optimizer:  key into ``Parts.optimizers``: the optimizer zeroed before and stepped after the phase.
    modules:    keys into ``Parts.modules`` whose parameters get ``requires_grad=True`` during the
                phase; every other module is frozen (saves the backward work, and keeps grads clean).
    interval:   run every ``interval`` iterations (lazy regularisation when > 1).
    lazy:       StyleGAN2 lazy regularisation: the engine multiplies the phase's loss by ``interval`` and,
                once at start, rescales its optimizer's lr by ``c = interval / (interval + 1)`` and betas to
                ``beta ** c`` (so families give the paper's base lr and betas).
    """

    name: str
    optimizer: str
    modules: tuple[str, ...]
    interval: int = 1
    lazy: bool = False


@dataclass
class StepContext:
    """What an :class:`Objective` sees of the engine during one iteration.

    step:         iteration index (0-based) of the running training job.
    clips_seen:   clips consumed by all ranks before this iteration (progress counter).
    generator:    ``torch.Generator`` seeded from (seed, rank, step, round) for the round's random draws
                  (latents, offsets), on the training device.
    cache:        scratch dict shared by the phases of *one* round (e.g. TGANv2's G phase leaves the fakes
                  there for the D phase); emptied every round.
    logs:         extra values to log (not back-propagated), e.g. ``{"D/real_logit": tensor}``; floats or
                  0-dim tensors (kept on the device, reduced at logging time).
    round/rounds: gradient-accumulation round of this call (``train.accumulate`` rounds per iteration, each
                  on ``batch_size / accumulate`` clips; gradients of the rounds are averaged).
    batch_size:   clips per iteration on this rank (all rounds together).
    """

    step: int
    clips_seen: int
    generator: torch.Generator
    cache: dict[str, Any] = field(default_factory=dict)
    logs: dict[str, Any] = field(default_factory=dict)
    round: int = 0
    rounds: int = 1
    batch_size: int = 0


class Stateful(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class Objective(Protocol):
    """Owns every loss term and family-specific update rule (order, balance gates, lazy R1).

    Optional method ``end_iteration(modules, ctx) -> None``: called once after all phases and rounds of an
    iteration (ADA's adaptive p, image pools, balance statistics); anything it changes that must survive a
    resume goes into ``state_dict``.
    """

    phases: Sequence[Phase]

    def __call__(
        self, phase: str, batch: Mapping[str, Any], modules: Mapping[str, nn.Module], ctx: StepContext
    ) -> dict[str, Tensor]:
        """Named, already-weighted scalar loss terms of ``phase``; the engine sums and back-propagates
        them. Return ``{}`` to skip the phase this iteration (e.g. TecoGAN's D-balance gate)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Objective state that must survive a resume (balance EMAs, counters); ``{}`` if none."""
        ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


# ------------------------------------------------------------------------------------------ inference


@dataclass(frozen=True)
class SampleOptions:
    """How ``vidgan generate`` asks for videos. A family raises ``ValueError`` for an option it cannot honour
    (e.g. truncation on a model without a mapping network).

    truncation: psi of the truncation trick (1 = off).
    start:      time of the first frame, in training frames.
    time_step:  time between consecutive frames, in training frames (0.5 = twice the training fps).
    layout:     "independent" videos, or "decomposition": a grid whose rows share content and whose
                columns share motion (``num`` = rows x columns, rows = columns = isqrt(num)).
    chunk:      > 0: yield the video in chunks of at most ``chunk`` frames (long videos in flat memory).
    extra:      family-specific options (``--opt key=value``).
    """

    truncation: float = 1.0
    start: float = 0.0
    time_step: float = 1.0
    layout: Literal["independent", "decomposition"] = "independent"
    chunk: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


# (module in role Parts.sample_role, num videos, frames, torch.Generator, options) ->
#   float (num, C, frames, H, W) in [-1, 1], or an iterator of such chunks along T when options.chunk > 0
Sampler = Callable[..., "Tensor | Iterator[Tensor]"]


@dataclass(frozen=True)
class StreamOptions:
    """Options of streaming conditional inference (``vidgan upscale`` / ``vidgan translate``).

    dtype:     "fp32" or "bf16" (autocast; recurrent state kept in float32).
    tile:      > 0: process tiles of this many input pixels with their own recurrence (VSR).
    direction: for two-way translation models, e.g. "AtoB" / "BtoA" ("" = the family's default).
    warmup:    -1 = the family's default number of warm-up frames.
    extra:     family-specific options (``--opt key=value``).
    """

    dtype: Literal["fp32", "bf16"] = "fp32"
    tile: int = 0
    direction: str = ""
    warmup: int = -1
    extra: Mapping[str, Any] = field(default_factory=dict)


class Stream(Protocol):
    """Frames in, frames out: ``stream(frames)`` maps an iterable of uint8 ``(h, w, 3)`` RGB frames to an
    iterator of uint8 ``(scale*h, scale*w, 3)`` frames, same count and order, constant memory in length.
    Each call starts a new video (fresh recurrent state)."""

    scale: int

    def __call__(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]: ...


# (modules by role — only Parts.stream_roles are loaded —, options) -> Stream
StreamFactory = Callable[[Mapping[str, nn.Module], StreamOptions], Stream]


@dataclass
class ForeignWeights:
    """A non-vidgan checkpoint made usable for inference by ``load_foreign``: the family config to build
    and the state dict of each role it fills (data settings come from ``data`` overrides)."""

    config: FamilyConfig
    states: dict[str, dict[str, Tensor]]
    data: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None


@dataclass
class Parts:
    """Everything a family builds for the engine and for inference.

    modules:      role -> module, e.g. ``{"generator": G, "discriminator": D}``. Roles are what
                  ``vidgan summary`` reports (several discriminators may live in one module).
    optimizers:   name -> optimizer over (parts of) the modules; base LRs are the groups' ``lr``.
    objective:    the :class:`Objective` (None for inference-only builds).
    lr_factor:    pure function ``(optimizer_name, clips_seen) -> multiplier`` of the base LR
                  (schedules are functions of progress, so resume is exact).
    ema:          role(s) whose EMA copy is kept (``None``: no EMA); inference uses the EMA in its place.
    sample:       unconditional families: ``sample(module, num, frames, torch.Generator, options=None)``
                  (see :data:`Sampler`), used by ``vidgan generate`` and the sample grids.
    sample_role:  the role handed to ``sample``.
    stream:       conditional families: a :data:`StreamFactory` (``vidgan upscale`` / ``vidgan translate``).
    stream_roles: the roles ``stream`` needs (only these are loaded for inference).
    eval_keys:    conditional families: (input key, target key) of a batch, e.g. ``("lr", "hr")``; training-time
                  ``--eval`` streams the inputs of a fixed validation set and scores against the targets.
    preview:      ``(modules, batch) -> float (B, C, T, H, W) in [-1, 1]``: what to show in sample grids
                  for conditional families (e.g. [input | output | target] panels).
    preview_labels: column labels of the preview panels, e.g. ``("bicubic", "output", "target")``.
    state:        extra named state to checkpoint (objects with ``state_dict``/``load_state_dict``), e.g.
                  an image pool; the engine saves and restores each under its name.
    """

    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    objective: Objective | None = None
    lr_factor: Callable[[str, int], float] = lambda name, clips_seen: 1.0
    ema: str | tuple[str, ...] | None = "generator"
    sample: Sampler | None = None
    sample_role: str = "generator"
    stream: StreamFactory | None = None
    stream_roles: tuple[str, ...] = ("generator",)
    eval_keys: tuple[str, str] | None = None
    preview: Callable[[Mapping[str, nn.Module], Mapping[str, Any]], Tensor] | None = None
    preview_labels: tuple[str, ...] = ()
    state: dict[str, Stateful] = field(default_factory=dict)

    @property
    def ema_roles(self) -> tuple[str, ...]:
        if self.ema is None:
            return ()
        return (self.ema,) if isinstance(self.ema, str) else tuple(self.ema)


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
