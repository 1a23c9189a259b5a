"""The contract between a model family and the rest of vidgan.

A family is a subpackage ``vidgan.families.<name>`` whose ``__init__.py`` exposes:

* ``Config``: a frozen dataclass subclassing :class:`FamilyConfig` (defaults = the released model),
* ``PRESETS``: ``dict[str, dict]`` of nested override dicts applied to the default :class:`RunConfig`
  of the family (keys ``family``, ``data``, ``train``); it must contain ``"tiny"`` (tests) and may set
  ``DEFAULT_PRESET``,
* ``build(cfg: Config, *, image_size: int, frames: int) -> Parts`` (``image_size``/``frames`` come from
  the run's data config: the output size H = W and clip length; raise ``ValueError`` naming the field
  when they do not fit the family config),
* optionally ``convert.import_weights(src: Path, out: Path) -> Path`` for official checkpoints.

Nothing registers itself: :func:`vidgan.families.load_family` imports the folder by name.

The engine (``vidgan.engine``) only ever sees :class:`Parts`: it steps the :class:`Phase` list in order
each iteration, calls the :class:`Objective` for the named, already-weighted loss terms of a phase,
sums them, back-propagates, and steps that phase's optimizer. It never knows what a GAN loss is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import torch
from torch import Tensor, nn

Task = Literal["unconditional", "vsr", "translation"]

__all__ = [
    "Task",
    "FamilyConfig",
    "Phase",
    "StepContext",
    "Objective",
    "Parts",
    "count_parameters",
]


@dataclass(frozen=True)
class FamilyConfig:
    """Base of every family's ``Config``. Subclasses add typed fields with the released defaults."""

    name: str = ""
    task: Task = "unconditional"


@dataclass(frozen=True)
class Phase:
    """One optimisation phase of a training iteration (the stylegan3 idea).

    name:       stable name used in logs, e.g. ``"G"``, ``"D"``.
    optimizer:  key into ``Parts.optimizers``: the optimizer zeroed before and stepped after the phase.
    modules:    keys into ``Parts.modules`` whose parameters get ``requires_grad=True`` during the
                phase; every other module is frozen (saves the backward work, and keeps grads clean).
    interval:   run every ``interval`` iterations (lazy regularisation when > 1).
    """

    name: str
    optimizer: str
    modules: tuple[str, ...]
    interval: int = 1


@dataclass
class StepContext:
    """What an :class:`Objective` sees of the engine during one iteration.

    step:         iteration index (0-based) of the running training job.
    clips_seen:   clips consumed by all ranks before this iteration (progress counter).
    cache:        scratch dict shared by the phases of *one* iteration (e.g. TGANv2's G phase leaves the
                  fakes there for the D phase); emptied every iteration.
    logs:         extra scalars to log (not back-propagated), e.g. ``{"D/real_logit": 0.3}``.
    generator:    ``torch.Generator`` seeded from (seed, rank, step) for the iteration's random draws
                  (latents, phases), on the training device.
    """

    step: int
    clips_seen: int
    generator: torch.Generator
    cache: dict[str, Any] = field(default_factory=dict)
    logs: dict[str, float] = field(default_factory=dict)


class Objective(Protocol):
    """Owns every loss term and family-specific update rule (order, balance gates, lazy R1)."""

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


@dataclass
class Parts:
    """Everything a family builds for the engine.

    modules:      role -> module, e.g. ``{"generator": G, "discriminator": D}``. Roles are what
                  ``vidgan summary`` reports (several discriminators live in one module and are summed).
    optimizers:   name -> optimizer over (parts of) the modules; base LRs are the groups' ``lr``.
    objective:    the :class:`Objective` (None for inference-only builds).
    lr_factor:    pure function ``(optimizer_name, clips_seen) -> multiplier`` of the base LR
                  (schedules are functions of progress, so resume is exact).
    ema:          role of the module whose EMA copy is kept (``None``: no EMA).
    sample:       ``(generator_module, num, frames, torch.Generator) -> float (B, C, T, H, W) in [-1, 1]``
                  for unconditional families (used by ``vidgan generate`` and sample grids).
    preview:      ``(modules, batch) -> float (B, C, T, H, W) in [-1, 1]``: what to show in sample grids
                  for conditional families (e.g. the VSR output of a fixed validation batch).
    """

    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    objective: Objective | None = None
    lr_factor: Callable[[str, int], float] = lambda name, clips_seen: 1.0
    ema: str | None = "generator"
    sample: Callable[[nn.Module, int, int, torch.Generator], Tensor] | None = None
    preview: Callable[[Mapping[str, nn.Module], Mapping[str, Any]], Tensor] | None = None


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
