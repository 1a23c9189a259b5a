"""vidgan.temporal: temporal consistency for any PyTorch GAN (TimeCycleGAN toolkit, spec ``timecycle.md``).

Composable objects on ``(N, T, C, H, W)`` tensors (lists of ``(N, C, H, W)`` frames are accepted too):

* :class:`TimeCycleLoss` (alias ``TimeCycle``): motion-model rollouts ("long" and "skip"), reconstruction
  terms, modes conditional / unconditional / pingpong, TimeCycle frame and sequence discriminator terms;
* :class:`SequenceDiscriminatorLoss`: multi-scale sequence PatchGAN over frame windows with its D / G
  terms and feature matching;
* :class:`FlowWarpLoss` (alias ``WarpLoss``): confidence-masked backward warp loss over a :class:`FlowSource`
  (:class:`FarnebackFlow`, :class:`ModuleFlow`, or any function);
* :class:`RecurrentGenerator`: turns an image generator into a frame-recurrent video generator;
* :mod:`vidgan.temporal.nets`: the CycleGAN/pix2pix/DCGAN networks with the official key layout;
* :mod:`vidgan.temporal.metrics`: TimeCycleGAN's tLP / tOF definitions;
* :class:`ImagePool`: CycleGAN's history of generated images for D.

See ``docs/temporal.md`` for the ten-line recipe.
"""

from .metrics import tlp_timecycle, tof_timecycle, tof_timecycle_from_flows
from .nets import define_discriminator, define_generator
from .pool import ImagePool
from .recurrent import RecurrentGenerator, RecurrentState
from .seqd import SequenceDiscriminatorLoss, window_indices
from .timecycle import Rollout, TimeCycle, TimeCycleLoss
from .warp import FarnebackFlow, FlowSource, FlowWarpLoss, ModuleFlow, WarpLoss, flow_warp

__all__ = [
    "TimeCycleLoss",
    "TimeCycle",
    "Rollout",
    "SequenceDiscriminatorLoss",
    "window_indices",
    "FlowWarpLoss",
    "WarpLoss",
    "FlowSource",
    "FarnebackFlow",
    "ModuleFlow",
    "flow_warp",
    "RecurrentGenerator",
    "RecurrentState",
    "ImagePool",
    "define_generator",
    "define_discriminator",
    "tlp_timecycle",
    "tof_timecycle",
    "tof_timecycle_from_flows",
]
