"""Image networks of the pytorch-CycleGAN-and-pix2pix lineage, as TimeCycleGAN builds them (spec §3.1).

Every module keeps the official state-dict layout, so official checkpoints load key for key:

* :class:`ResnetGenerator` (``resnet_<N>blocks``): ``model.<i>`` flat sequential (reflection pad, 7x7 conv,
  two stride-2 convs, N residual blocks ``model.<10+k>.conv_block.{1,5}``, two transposed convs, 7x7 head).
* :class:`UnetGenerator` (``unet_128`` / ``unet_256``): nested ``model.model.<...>`` skip blocks, no dropout.
* :class:`PatchDiscriminator` (``basic`` = 3 layers, ``n_layers_<k>``): ``model.<i>``; ``forward(x,
  features=True)`` also returns the block outputs used for feature matching. Checkpoints written by the
  official ``store_layers`` variant carry every conv twice (``model0.0.*`` ... and ``model.*``); loading
  accepts both sets (the aliases must equal their ``model.*`` twins) and saving writes ``model.*`` only.
* :class:`DCGANGenerator`, :class:`DCGANEncoder`, :class:`DCGANDiscriminator` (``main.<i>``), 64x64.

Normalisation is instance norm without affine parameters or running stats (the official default, DCGAN
nets included), so every conv has a bias. :func:`init_weights` is the official N(0, 0.02) init.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
from torch import Tensor, nn

__all__ = [
    "ResnetBlock",
    "ResnetGenerator",
    "UnetGenerator",
    "PatchDiscriminator",
    "DCGANGenerator",
    "DCGANEncoder",
    "DCGANDiscriminator",
    "EncodedGenerator",
    "define_generator",
    "define_discriminator",
    "init_weights",
    "norm_layer",
]


def norm_layer(kind: str, channels: int) -> nn.Module:
    """``instance`` (affine=False, no running stats; official default), ``batch`` or ``none``."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}: use instance, batch or none")


def _activation(kind: str) -> nn.Module:
    table: dict[str, Callable[[], nn.Module]] = {
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "linear": nn.Identity,
        "relu": lambda: nn.ReLU(True),
        "lrelu": lambda: nn.LeakyReLU(0.2, True),
    }
    if kind not in table:
        raise ValueError(f"unknown activation {kind!r}: use one of {', '.join(table)}")
    return table[kind]()


def init_weights(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """Official init: conv / linear weights N(0, gain), biases 0; BatchNorm weight N(1, gain)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
    return net


# --------------------------------------------------------------------------------------------- generators


class ResnetBlock(nn.Module):
    """x + [pad, conv3, norm, ReLU, pad, conv3, norm](x); keys ``conv_block.{1,5}``."""

    def __init__(self, dim: int, norm: str = "instance") -> None:
        super().__init__()
        bias = norm != "batch"
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=bias),
            norm_layer(norm, dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=bias),
            norm_layer(norm, dim),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """ResNet image-to-image generator (Johnson et al.; CycleGAN's ``resnet_<N>blocks``).

    Any H, W that are multiples of 4 (two stride-2 levels); non-square sizes work.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        ngf: int = 64,
        n_blocks: int = 9,
        norm: str = "instance",
        activation: str = "tanh",
    ) -> None:
        super().__init__()
        bias = norm != "batch"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, ngf, 7, bias=bias),
            norm_layer(norm, ngf),
            nn.ReLU(True),
        ]
        for i in range(2):  # down: ngf -> 2 ngf -> 4 ngf
            c = ngf * 2**i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=bias), norm_layer(norm, 2 * c), nn.ReLU(True)]
        layers += [ResnetBlock(4 * ngf, norm) for _ in range(n_blocks)]
        for i in range(2):  # up: 4 ngf -> 2 ngf -> ngf
            c = ngf * 2 ** (2 - i)
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                norm_layer(norm, c // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), _activation(activation)]
        self.model = nn.Sequential(*layers)
        self.in_channels, self.out_channels, self.n_blocks = in_channels, out_channels, n_blocks

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"ResnetGenerator needs H and W divisible by 4, got {tuple(x.shape[-2:])}")
        return self.model(x)


class _UnetBlock(nn.Module):
    """One level of the U-Net: down conv -> submodule -> up conv, skip concatenation (except outermost)."""

    def __init__(
        self,
        outer: int,
        inner: int,
        in_channels: int | None = None,
        sub: nn.Module | None = None,
        outermost: bool = False,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        self.outermost = outermost
        bias = norm != "batch"
        cin = outer if in_channels is None else in_channels
        down = nn.Conv2d(cin, inner, 4, stride=2, padding=1, bias=bias)
        if outermost:
            up = nn.ConvTranspose2d(2 * inner, outer, 4, stride=2, padding=1)
            layers = [down, sub, nn.ReLU(True), up, nn.Tanh()]
        elif sub is None:  # innermost
            up = nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, norm_layer(norm, outer)]
        else:
            up = nn.ConvTranspose2d(2 * inner, outer, 4, stride=2, padding=1, bias=bias)
            layers = [
                nn.LeakyReLU(0.2, True),
                down,
                norm_layer(norm, inner),
                sub,
                nn.ReLU(True),
                up,
                norm_layer(norm, outer),
            ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        y = self.model(x)
        return y if self.outermost else torch.cat([x, y], 1)


class UnetGenerator(nn.Module):
    """U-Net generator with ``num_downs`` levels (7 = ``unet_128``, 8 = ``unet_256``); no dropout (as
    TimeCycleGAN). H and W must be multiples of ``2 ** num_downs``."""

    def __init__(self, in_channels: int, out_channels: int, num_downs: int = 8, ngf: int = 64, norm: str = "instance"):
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"UnetGenerator needs num_downs >= 5, got {num_downs}")
        block = _UnetBlock(8 * ngf, 8 * ngf, norm=norm)
        for _ in range(num_downs - 5):
            block = _UnetBlock(8 * ngf, 8 * ngf, sub=block, norm=norm)
        block = _UnetBlock(4 * ngf, 8 * ngf, sub=block, norm=norm)
        block = _UnetBlock(2 * ngf, 4 * ngf, sub=block, norm=norm)
        block = _UnetBlock(ngf, 2 * ngf, sub=block, norm=norm)
        self.model = _UnetBlock(out_channels, ngf, in_channels=in_channels, sub=block, outermost=True, norm=norm)
        self.num_downs = num_downs

    def forward(self, x: Tensor) -> Tensor:
        m = 2**self.num_downs
        if x.shape[-1] % m or x.shape[-2] % m:
            raise ValueError(f"unet_{m} needs H and W that are multiples of {m}, got {tuple(x.shape[-2:])}")
        return self.model(x)


# ------------------------------------------------------------------------------------------ discriminators


class PatchDiscriminator(nn.Module):
    """PatchGAN (pix2pix ``basic`` for ``n_layers=3``: 70x70 receptive field), raw logits.

    ``forward(x)`` -> logit map; ``forward(x, features=True)`` -> (logit map, [block outputs 0..n_layers]),
    the intermediate activations (after LeakyReLU) that feature matching compares; the final map is
    not among them.
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "instance") -> None:
        super().__init__()
        bias = norm != "batch"
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        self._ends = [1]  # index of the last layer of each feature block
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=bias),
                norm_layer(norm, ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
            self._ends.append(len(layers) - 1)
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)
        self.in_channels = in_channels
        self.register_load_state_dict_pre_hook(_drop_store_layer_aliases)

    def forward(self, x: Tensor, features: bool = False):
        if not features:
            return self.model(x)
        feats = []
        h = x
        start = 0
        for end in self._ends:
            for layer in self.model[start : end + 1]:
                h = layer(h)
            feats.append(h)
            start = end + 1
        for layer in self.model[start:]:
            h = layer(h)
        return h, feats

    def official_aliases(self) -> dict[str, str]:
        """``model<k>.0.<p>`` (official ``store_layers`` key) -> ``model.<i>.<p>`` (the same conv)."""
        convs = [i for i, m in enumerate(self.model) if isinstance(m, nn.Conv2d)]
        return {f"model{k}.0.{p}": f"model.{i}.{p}" for k, i in enumerate(convs) for p in ("weight", "bias")}


_ALIAS = re.compile(r"^model(\d+)\.0\.(weight|bias)$")


def _drop_store_layer_aliases(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
    """Accept official ``store_layers`` checkpoints: ``model<k>.0.*`` duplicates of ``model.*`` are checked
    against their twin (or used in its place when the twin is absent) and removed."""
    aliases = module.official_aliases()
    for key in [k for k in state_dict if k.startswith(prefix) and _ALIAS.match(k[len(prefix) :])]:
        local = key[len(prefix) :]
        target = aliases.get(local)
        if target is None:
            continue  # leave it: strict loading reports it as unexpected
        value = state_dict.pop(key)
        twin = prefix + target
        if twin not in state_dict:
            state_dict[twin] = value
        elif state_dict[twin].shape != value.shape or not torch.equal(state_dict[twin], value):
            errors.append(f"{key} differs from {twin}: a store_layers checkpoint holds the same conv twice")


class DCGANGenerator(nn.Module):
    """DCGAN generator z (N, nz, 1, 1) -> (N, C, 64, 64): transposed convs 8ngf@4 .. C@64, tanh."""

    def __init__(self, out_channels: int = 3, ngf: int = 64, nz: int = 100, norm: str = "instance") -> None:
        super().__init__()
        bias = norm != "batch"
        chans = [nz, 8 * ngf, 4 * ngf, 2 * ngf, ngf]
        layers: list[nn.Module] = []
        for i in range(4):
            stride, pad = (1, 0) if i == 0 else (2, 1)
            layers += [
                nn.ConvTranspose2d(chans[i], chans[i + 1], 4, stride, pad, bias=bias),
                norm_layer(norm, chans[i + 1]),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(ngf, out_channels, 4, 2, 1, bias=bias), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.nz = nz

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


class DCGANEncoder(nn.Module):
    """Mirror of :class:`DCGANGenerator`: (N, C, 64, 64) -> (N, nz, 1, 1): conv-norm-ReLU x4, conv, no final
    activation (encodes the previous frame(s) of TimeCycleGAN-U)."""

    def __init__(self, in_channels: int = 3, ngf: int = 64, nz: int = 100, norm: str = "instance") -> None:
        super().__init__()
        bias = norm != "batch"
        chans = [in_channels, ngf, 2 * ngf, 4 * ngf, 8 * ngf]
        layers: list[nn.Module] = []
        for i in range(4):
            layers += [
                nn.Conv2d(chans[i], chans[i + 1], 4, 2, 1, bias=bias),
                norm_layer(norm, chans[i + 1]),
                nn.ReLU(True),  # ReLU (not LeakyReLU) in the official encoder, pinned by the fixtures
            ]
        layers.append(nn.Conv2d(8 * ngf, nz, 4, 1, 0, bias=bias))
        self.main = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator (N, C, 64, 64) -> (N, 1, 1, 1) raw logits; no norm on the first conv."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, norm: str = "instance") -> None:
        super().__init__()
        bias = norm != "batch"
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1, bias=bias), nn.LeakyReLU(0.2, True)]
        for i in range(3):
            c = ndf * 2**i
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=bias), norm_layer(norm, 2 * c), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(8 * ndf, 1, 4, 1, 0, bias=bias))
        self.main = nn.Sequential(*layers)
        self.in_channels = in_channels

    def forward(self, x: Tensor, features: bool = False):
        if x.shape[-2:] != (64, 64):
            raise ValueError(f"the DCGAN discriminator is 64x64 only, got {tuple(x.shape[-2:])}")
        if not features:
            return self.main(x)
        feats = []
        h = x
        for layer in self.main:
            h = layer(h)
            if isinstance(layer, nn.LeakyReLU):
                feats.append(h)
        return h, feats


# -------------------------------------------------------------------------------------------------- factory

_RESNET = re.compile(r"^resnet_(\d+)blocks$")


def define_generator(
    name: str, in_channels: int, out_channels: int, ngf: int = 64, norm: str = "instance", init: bool = True
) -> nn.Module:
    """Build ``resnet_<N>blocks``, ``unet_128``, ``unet_256`` or ``unet_<levels>levels`` (official init)."""
    m = _RESNET.match(name)
    if m:
        net: nn.Module = ResnetGenerator(in_channels, out_channels, ngf, int(m.group(1)), norm)
    elif name == "unet_128":
        net = UnetGenerator(in_channels, out_channels, 7, ngf, norm)
    elif name == "unet_256":
        net = UnetGenerator(in_channels, out_channels, 8, ngf, norm)
    else:
        raise ValueError(f"unknown generator {name!r}: use resnet_<N>blocks, unet_128 or unet_256")
    return init_weights(net) if init else net


def define_discriminator(
    name: str, in_channels: int, ndf: int = 64, norm: str = "instance", init: bool = True
) -> nn.Module:
    """``basic`` (3-layer PatchGAN), ``n_layers_<k>``, ``pixel`` (1x1 PatchGAN) or ``dcgan``."""
    if name == "basic":
        net: nn.Module = PatchDiscriminator(in_channels, ndf, 3, norm)
    elif name.startswith("n_layers_"):
        net = PatchDiscriminator(in_channels, ndf, int(name.removeprefix("n_layers_")), norm)
    elif name == "pixel":
        net = nn.Sequential(
            nn.Conv2d(in_channels, ndf, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, 2 * ndf, 1, bias=norm != "batch"),
            norm_layer(norm, 2 * ndf),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * ndf, 1, 1, bias=norm != "batch"),
        )
    elif name == "dcgan":
        net = DCGANDiscriminator(in_channels, ndf, norm)
    else:
        raise ValueError(f"unknown discriminator {name!r}: use basic, n_layers_<k>, pixel or dcgan")
    return init_weights(net) if init else net


class EncodedGenerator(nn.Module):
    """TimeCycleGAN-U's frame generator: ``generator(encoder(previous frame(s)))`` (keys ``encoder.*``,
    ``generator.*``); wrapped by :class:`~vidgan.temporal.recurrent.RecurrentGenerator` without a condition."""

    def __init__(self, encoder: nn.Module, generator: nn.Module) -> None:
        super().__init__()
        self.encoder, self.generator = encoder, generator

    def forward(self, prev: Tensor) -> Tensor:
        return self.generator(self.encoder(prev))
