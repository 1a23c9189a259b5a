"""TGANv2 family configuration (defaults = the released UCF101 run of pfnet-research/tgan2 @ f892bc4).

Spec: ``shared/specs/tganv2.md`` §1.1 (generator), §2 (discriminators), §3 (objective), §4.1 (optimiser),
§11 (vidgan decisions). Every default below is the *effective* value of the official README command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vidgan.families.api import FamilyConfig

__all__ = ["Config"]


@dataclass(frozen=True)
class Config(FamilyConfig):
    """Typed TGANv2 settings. Output side = ``t_size * 2**(n_pre_blocks + 3)`` (3 -> 192 px, 4 -> 256 px)."""

    name: str = "tganv2"
    task: Literal["unconditional"] = "unconditional"

    # ---- generator (MultiTGANCLSTMGenerator, spec §1) ----
    n_frames: int = 16  # frames generated per clip (test time may unroll the ConvLSTM longer)
    z_slow_dim: int = 256  # latent size, z ~ U[-1, 1]
    t_size: int = 3  # ConvLSTM map side (3 -> 192 px UCF101, 4 -> 256 px FaceForensics)
    ch: int = 32  # image-part base width: Up blocks 16ch, 8ch, 4ch | 2ch | ch | ch
    clstm_ch: int = 1024  # ConvLSTM channels (release README override; class default 512)
    n_layers: int = 1  # stacked ConvLSTM cells (no residual between them)
    n_pre_blocks: int = 3  # Up blocks before level 1 (3 official; 1 for the 64 px variant, spec §1.7 b)
    out_channels: int = 3
    subsample_frame: tuple[int, int, int] = (2, 2, 2)  # frame factor between levels (phase random)
    subsample_batch: tuple[int, int, int] = (1, 1, 1)  # batch factor; release (1,1,1), "proposed" (2,2,2)
    bn_eps: float = 2e-5  # Chainer BatchNormalization default (PyTorch's 1e-5 moves outputs by ~3e-2)
    bn_momentum: float = 0.1  # Chainer decay 0.9 -> PyTorch momentum 0.1

    # ---- discriminators (MultiResNetVideoDiscriminator, spec §2) ----
    mid_ch: int = 64  # D widths mid_ch * (1, 2, 4, 8, 16); 29,019,265 params per level at 64
    d_widths: tuple[int, ...] = ()  # explicit 5 block widths instead (the port: 32, 32, 64, 128, 256)
    d_pad_odd: bool = True  # official odd-size zero-pad quirk in DisBlock downsampling (size 1 -> 3)
    d_head_relu: bool = True  # ReLU before the global sum (the PyTorch port omits it)

    # ---- objective (DiracUpdater, spec §3) ----
    level_loss: Literal["concat", "sum_sigmoid"] = "concat"  # code: per-level softplus on concatenated
    # logits; "sum_sigmoid" = paper figure sigma(sum_l D_l) (untested, needs subsample_batch (1,1,1))
    # R1 on real inputs. The official loss is lam * sum_{l,i} ||grad_x D_l(x_{l,i})||^2 (a *sum* over
    # batch and levels) next to an adversarial term that is a *mean* over L*B entries, so its effective
    # strength depends on the per-process batch B: in Mescheder's mean form gamma/2 = lam * L * B =
    # 0.5 * 4 * 32 = 64 at the release's per-GPU batch 32 (spec §3.2 "Effective strength"). A single
    # process with batch 128 would need lam = 0.125 for the same strength. vidgan's default ("mean")
    # stores the batch-independent coefficient r1_gamma_half = 64 (identical to the release at batch 32);
    # "sum" uses lam literally (exact parity with the official code at any batch).
    r1_reduction: Literal["mean", "sum"] = "mean"
    r1_gamma_half: float = 64.0  # used when r1_reduction == "mean": gamma/2 * mean_{l,i} ||grad||^2
    lam: float = 0.5  # used when r1_reduction == "sum": lam * sum_{l,i} ||grad||^2 (official form)
    update_order: Literal["g_first", "d_first"] = "g_first"  # official: G step, then D on the same fakes

    # ---- optimiser (Chainer Adam, spec §4.1) ----
    lr: float = 1e-4  # both G and D
    lr_d: float = 0.0  # 0 = same as lr (the port uses D lr 5e-5)
    betas: tuple[float, float] = (0.0, 0.9)
    eps: float = 8e-8  # Chainer places eps outside the bias correction (vidgan's ChainerAdam does too)
    # linear LR decay to 0 over this many clips seen: the release's 100k iterations at global batch 128
    # (Chainer LinearShift from iteration 0); 0 = constant LR
    decay_clips: int = 100_000 * 128

    def __post_init__(self) -> None:
        if len(self.subsample_frame) != 3 or len(self.subsample_batch) != 3:
            raise ValueError("tganv2 Config: subsample_frame and subsample_batch need 3 entries (levels 2-4)")
        if min(self.subsample_frame) < 1 or min(self.subsample_batch) < 1:
            raise ValueError("tganv2 Config: subsampling factors must be >= 1")
        if self.n_pre_blocks < 1 or self.ch < 1 or self.clstm_ch < 1 or self.mid_ch < 1:
            raise ValueError("tganv2 Config: n_pre_blocks, ch, clstm_ch and mid_ch must be >= 1")
        if self.level_loss == "sum_sigmoid" and tuple(self.subsample_batch) != (1, 1, 1):
            raise ValueError("tganv2 Config: level_loss='sum_sigmoid' needs subsample_batch=(1, 1, 1)")

    @property
    def image_size(self) -> int:
        """Side of the full-resolution (level 4 / test) output."""
        return self.t_size * 2 ** (self.n_pre_blocks + 3)

    @property
    def level_sizes(self) -> tuple[int, int, int, int]:
        s = self.t_size * 2**self.n_pre_blocks
        return (s, 2 * s, 4 * s, 8 * s)

    @property
    def level_frames(self) -> tuple[int, int, int, int]:
        """Frames per level in training: T, T/s1, T/(s1 s2), T/(s1 s2 s3) (``build`` requires T to be
        divisible by the product, so every phase gives the same count)."""
        t = [self.n_frames]
        for s in self.subsample_frame:
            t.append(t[-1] // s)
        return tuple(t)  # type: ignore[return-value]
