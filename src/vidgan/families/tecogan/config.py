"""TecoGAN / FRVSR family configuration (defaults = the released 16-block TecoGAN recipe).

Spec: ``shared/specs/tecogan.md`` §1-§6 (facts) and §14 (vidgan decisions). Two layers:

* network layout / numerics: one switch ``compat``. ``"pt"`` (default) is the PyTorch port's layout,
  pinned by the golden fixtures and loading its released checkpoints key for key. ``"tf"`` is the official
  TF layout (flow order/sign, TF "SAME" transposed conv, legacy bilinear, per-location D head, BN without
  gamma); every difference lives in ``compat.py``. Reading the official TF checkpoint is not built yet.
* training recipe: official TF / paper behaviour by default (L2 content with channel sum in [-1, 1],
  D-feature loss on, EMA Dbalance, Adam 5e-5), the port's behaviour as named options.
FRVSR is the ``frvsr`` preset (10 blocks; adversarial, VGG, ping-pong, D-feature weights 0; no D).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vidgan.families.api import FamilyConfig

__all__ = ["Config"]


@dataclass(frozen=True)
class Config(FamilyConfig):
    """Typed TecoGAN settings; see the module docstring for the two decision layers."""

    name: str = "tecogan"
    task: Literal["vsr"] = "vsr"
    compat: Literal["pt", "tf"] = "pt"

    # ---- generator FRNet = FNet + SRNet (spec §1, §2) ----
    scale: int = 4  # 4 (official, hard-wired in TF) or 2 (port)
    in_channels: int = 3
    nf: int = 64  # SRNet width
    num_blocks: int = 16  # 16 = released TecoGAN; 10 = FRVSR / TecoGAN-minus / the port's models
    degradation: Literal["bd", "bi"] = "bd"  # bd: bicubic skip + flow upsampler (with tap buffers); bi: bilinear
    max_flow: float = 24.0  # FNet output tanh * max_flow, LR pixels
    init_from: str = ""  # warm start: a vidgan or port checkpoint of the generator (e.g. 10-block FRVSR)
    grow_init: Literal["residual_zero", "zero"] = "residual_zero"  # new blocks when growing 10 -> 16;
    # "zero" = the official zero fill, which leaves the new blocks untrainable (spec §6.4)

    # ---- spatio-temporal discriminator (spec §5) ----
    discriminator: bool = True
    crop_border_ratio: float = 0.75  # warped group: central 75 % kept, 16-px border zeroed at 128

    # ---- objective (spec §6) ----
    pixel_loss: Literal["l2", "charbonnier"] = "l2"  # l2: [TF] channel-sum L2 in [-1, 1] (content, warp in
    # LR [0, 1]) and L1 ping-pong in [-1, 1]; charbonnier: [PT] Charbonnier means in [0, 1] (eps 1e-6)
    content_weight: float = 1.0
    warp_weight: float = 1.0  # LR warp loss, reaches FNet only
    vgg_weight: float = 0.2  # VGG19 cosine loss on relu2_2/3_4/4_4/5_4
    vgg_weights: str = ""  # path to torchvision-layout VGG19 weights (vgg19-dcbb9e9d.pth); "random" = tests
    vgg_sha256: str = ""  # optional check of the weight file
    vgg_preprocess: Literal["torchvision", "caffe"] = "torchvision"  # caffe = TF-slim style (x*255 - mean)
    pingpong: bool = True  # extend clips 0..T-1..0 (2T-1 frames)
    pingpong_weight: float = 0.5
    adv_weight: float = 0.01
    dfeat_weight: float = 0.02  # D-feature loss, per block divided by (12, 14, 24, 100)
    balance: Literal["ema", "instant", "off"] = "ema"  # Dbalance gate: [TF] EMA, [PT] instantaneous
    balance_decay: float = 0.99
    balance_threshold: float = 0.4  # D is updated only while the (EMA of) t_balance is below this

    # ---- optimisers (spec §6.4: Adam, constant LR) ----
    lr: float = 5e-5  # generator (SRNet and FNet)
    lr_d: float = 5e-5
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
