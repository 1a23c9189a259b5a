"""The simplified vid2vid baseline of TimeCycleGAN (spec §3.4; Wang et al. 2018, without its multi-GPU parts).

Generator (recurrent, ``n_frames_g`` previous frames, the previous sources also fed): two feature extractors
(the ResNet down part at ngf/2 filters + K//2 residual blocks each) encode [sources_{t-n..t}] and
[fakes_{t-n..t-1}]; their features are concatenated (4 ngf channels at H/4) and feed

* an image head (K - K//2 residual blocks, the up part, 7x7 conv, tanh) -> h_t;
* a shared flow/mask trunk (K - K//2 residual blocks, the up part) with a flow head (7x7 conv -> 2 channels,
  linear, x ``flow_scale`` = 20 px) and a mask head (7x7 conv -> 1 channel, sigmoid);

output = m * h_t + (1 - m) * warp(fake_{t-1}, flow). Losses (objective): the paired frame terms, flow L1 and
flow-warp L1 against the real frames' flow (masked by the flow source's confidence) x ``flow_weight``,
the fake's warp loss (``warp_weight``), mean mask x ``mask_weight`` (pushes m -> 0, i.e. towards warping).
Simplification (stated): the sequence D is not conditioned on the real flows, and the flows come from a
:class:`~vidgan.temporal.FlowSource` (Farnebäck by default) instead of FlowNet2. Not covered by fixtures.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vidgan.temporal.nets import ResnetBlock, norm_layer
from vidgan.temporal.recurrent import RecurrentGenerator, RecurrentState
from vidgan.temporal.warp import flow_warp

__all__ = ["Vid2VidNet", "Vid2VidGenerator"]


def _down(cin: int, ngf: int, norm: str) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(cin, ngf, 7), norm_layer(norm, ngf), nn.ReLU(True)]
    for i in range(2):
        c = ngf * 2**i
        layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), norm_layer(norm, 2 * c), nn.ReLU(True)]
    return layers


def _up(ngf: int, norm: str) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i in range(2):
        c = ngf * 2 ** (2 - i)
        layers += [
            nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1),
            norm_layer(norm, c // 2),
            nn.ReLU(True),
        ]
    return layers


class Vid2VidNet(nn.Module):
    """See the module docstring. ``forward(x)`` takes the recurrent input [sources (n+1), fakes (n)] stacked
    along channels and returns the frame; :meth:`compose` also returns (flow, mask)."""

    def __init__(
        self,
        source_channels: int,
        target_channels: int,
        n_prev: int,
        ngf: int = 64,
        n_blocks: int = 9,
        norm: str = "instance",
        flow_scale: float = 20.0,
        align_corners: bool = False,
    ) -> None:
        super().__init__()
        if n_prev < 1:
            raise ValueError("vid2vid needs n_frames_g >= 1")
        half = max(1, ngf // 2)
        k1, k2 = n_blocks // 2, n_blocks - n_blocks // 2
        self.cs, self.ct, self.n_prev = source_channels, target_channels, n_prev
        self.source_enc = nn.Sequential(
            *_down(source_channels * (n_prev + 1), half, norm), *[ResnetBlock(4 * half, norm) for _ in range(k1)]
        )
        self.fake_enc = nn.Sequential(
            *_down(target_channels * n_prev, half, norm), *[ResnetBlock(4 * half, norm) for _ in range(k1)]
        )
        width = 8 * half  # both extractors concatenated
        if width != 4 * ngf:
            self.fuse: nn.Module = nn.Conv2d(width, 4 * ngf, 1)
        else:
            self.fuse = nn.Identity()
        self.image_head = nn.Sequential(
            *[ResnetBlock(4 * ngf, norm) for _ in range(k2)],
            *_up(ngf, norm),
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, target_channels, 7),
            nn.Tanh(),
        )
        self.trunk = nn.Sequential(*[ResnetBlock(4 * ngf, norm) for _ in range(k2)], *_up(ngf, norm))
        self.flow_head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf, 2, 7))
        self.mask_head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf, 1, 7), nn.Sigmoid())
        self.flow_scale, self.align_corners = flow_scale, align_corners

    def compose(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        ns = self.cs * (self.n_prev + 1)
        src, fakes = x[:, :ns], x[:, ns:]
        prev = fakes[:, -self.ct :]
        feat = self.fuse(torch.cat([self.source_enc(src), self.fake_enc(fakes)], 1))
        img = self.image_head(feat)
        trunk = self.trunk(feat)
        flow = self.flow_head(trunk) * self.flow_scale
        mask = self.mask_head(trunk)
        warped = flow_warp(prev, flow, self.align_corners)
        return mask * img + (1 - mask) * warped, flow, mask

    def forward(self, x: Tensor) -> Tensor:
        return self.compose(x)[0]


class Vid2VidGenerator(RecurrentGenerator):
    """:class:`RecurrentGenerator` over a :class:`Vid2VidNet` (previous sources fed); :meth:`unroll_aux` also
    returns the per-frame flows (N, T, 2, H, W) and masks (N, T, 1, H, W) for the losses."""

    net: Vid2VidNet

    def unroll_aux(
        self, cond: Tensor, generator: torch.Generator | None = None, **init: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        state: RecurrentState = self.init_state(cond[:, 0], generator, init.get("init_prev"), init.get("init_cond"))
        outs, flows, masks = [], [], []
        for t in range(cond.shape[1]):
            x = torch.cat(list(state.conds) + [cond[:, t]] + list(state.fakes), 1)
            y, flow, mask = self.net.compose(x)
            state = RecurrentState(fakes=state.fakes[1:] + [y], conds=state.conds[1:] + [cond[:, t]])
            outs.append(y)
            flows.append(flow)
            masks.append(mask)
        return torch.stack(outs, 1), torch.stack(flows, 1), torch.stack(masks, 1)
