"""Official StyleGAN-V network pickles (``network-snapshot-*.pkl``) → a vidgan checkpoint, key for key.

The pickle is a dict holding ``G``, ``D`` and ``G_ema`` (plus ``augment_pipe``, optimizers, ...): NVIDIA
"persistent class" objects whose pickles embed their module source code. They are read with
:mod:`vidgan.io.safe_pickle`: ``torch_utils.persistence._reconstruct_persistent_obj`` is replaced by a stub that
keeps the pickled ``__dict__`` (the source code is never executed), torch/omegaconf/dnnlib classes become inert
stubs, tensors are rebuilt by vidgan, and every other global is refused. The module tree of each stub is then
flattened exactly as ``nn.Module.state_dict()`` would (parameters, persistent buffers, children), the
architecture is inferred from the shapes, and the vidgan modules — whose names are the official ones — load the
result strictly (every key, every shape, nothing left over).

Output (as ``tecogan.convert``): a ``torch.save`` dict ``{"vidgan_version", "config": {family, preset, data,
train, seed}, "modules": {"generator": G, "discriminator": D}, "ema": G_ema, "source": {...}}``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from vidgan.core.atomic import atomic_write
from vidgan.io.safe_pickle import Stub, load, persistent_stub

from .config import Config
from .discriminator import Discriminator
from .generator import Generator

__all__ = ["import_weights", "read_network_pickle", "stub_state_dict", "config_from_states", "load_strict"]

# Inert stand-ins (never imported) for the non-network objects an official snapshot pickles alongside G/D.
STUB_PREFIXES = (
    "torch.nn.modules.",
    "torch.optim.",
    "torch.nn.parameter.",
    "dnnlib.",
    "omegaconf.",
    "typing.",
    "pathlib.",
    "training.",
    "torch_utils.",
    "metrics.",
)
REDUCERS = {"torch_utils.persistence._reconstruct_persistent_obj": persistent_stub}


def read_network_pickle(src: str | Path) -> dict[str, Any]:
    """The snapshot dict with its modules as stubs (restricted load; refuses any other global)."""
    obj = load(src, reducers=REDUCERS, stubs=STUB_PREFIXES)
    if not isinstance(obj, dict) or not {"G", "D"} <= set(obj):
        raise ValueError(f"{src}: not a StyleGAN-V network snapshot (expected a dict with 'G', 'D', 'G_ema')")
    return obj


def stub_state_dict(module: Any, prefix: str = "") -> OrderedDict[str, Tensor]:
    """``state_dict()`` of a pickled module stub: own parameters, persistent buffers, then children."""
    if not isinstance(module, Stub) or not isinstance(module.state, Mapping):
        raise ValueError(f"{prefix or 'module'}: not a pickled torch module ({module!r})")
    state = module.state
    out: OrderedDict[str, Tensor] = OrderedDict()
    for k, v in (state.get("_parameters") or {}).items():
        if v is not None:
            out[prefix + k] = v
    skip = state.get("_non_persistent_buffers_set") or set()
    for k, v in (state.get("_buffers") or {}).items():
        if v is not None and k not in skip:
            out[prefix + k] = v
    for k, child in (state.get("_modules") or {}).items():
        if child is not None:
            out.update(stub_state_dict(child, f"{prefix}{k}."))
    return out


def _res_blocks(keys, prefix: str) -> list[int]:
    found = {int(m.group(1)) for k in keys if (m := re.match(re.escape(prefix) + r"b(\d+)\.", k))}
    return sorted(found)


def config_from_states(g: Mapping[str, Tensor], d: Mapping[str, Tensor]) -> tuple[Config, int, int]:
    """(Config, resolution, frames) from official G and D state dicts (shapes only)."""
    if "synthesis.motion_encoder.conv.0.weight" not in g or "mapping.fc0.weight" not in g:
        raise KeyError("not a StyleGAN-V generator (no synthesis.motion_encoder.conv.0.weight / mapping.fc0.weight)")
    res = max(_res_blocks(g, "synthesis."))
    w_dim, z_dim = g["mapping.fc0.weight"].shape
    n_map = len({k.split(".")[1] for k in g if re.match(r"mapping\.fc\d+\.", k)})
    g_top = g[f"synthesis.b{res}.conv1.weight"].shape[0]
    g_max = max(g[f"synthesis.b{r}.conv1.weight"].shape[0] for r in _res_blocks(g, "synthesis."))
    mv, mz, k = g["synthesis.motion_encoder.conv.0.weight"].shape
    tdim = g["synthesis.motion_encoder.time_encoder.periods_predictor.weight"].shape[0]
    freqs = g["synthesis.motion_encoder.time_encoder.freqs"].flatten().double()
    min_p = int(round(2 * math.pi / float(freqs.max())))
    max_p = int(round(2 * math.pi / float(freqs.min())))
    d_res = _res_blocks(d, "")
    d_top = d[f"b{res}.conv0.weight"].shape[0]
    d_max = max(d[f"b{r}.conv0.weight"].shape[0] for r in d_res if r > 4 and f"b{r}.conv0.weight" in d)
    d_base = d_top * res
    d_ch = lambda r: min(d_base // r, d_max)  # noqa: E731
    concat = [r for r in d_res if r not in (4, res) and d[f"b{r}.conv0.weight"].shape[1] != d_ch(r)]
    if not concat and 16 < res:  # (F == num_frames_div_factor leaves the width unchanged): the default
        concat = [16]
    if len(concat) != 1:
        raise ValueError("styleganv convert: cannot locate the frame-concatenation block of the discriminator")
    concat_res = concat[0]
    div = d_ch(concat_res) // d[f"b{concat_res * 2}.conv1.weight"].shape[0]
    frames = d[f"b{concat_res}.conv0.weight"].shape[1] // (d_ch(concat_res) // div)
    mbstd_ch = d["b4.conv.weight"].shape[1] - d_ch(4)
    cfg = Config(
        z_dim=int(z_dim),
        w_dim=int(w_dim),
        mapping_layers=n_map,
        channel_base=int(g_top * res),
        channel_max=int(g_max),
        img_channels=int(g[f"synthesis.b{res}.torgb.weight"].shape[0]),
        motion_z_dim=int(mz),
        motion_v_dim=int(mv),
        motion_kernel=int(k),
        time_enc_dim=int(tdim),
        min_period_len=min_p,
        max_period_len=max_p,
        max_num_frames=int(d["time_encoder.const_embed.weight"].shape[0]),
        d_channel_base=int(d_base),
        d_channel_max=int(d_max),
        concat_res=int(concat_res),
        num_frames_div_factor=int(div),
        mbstd_num_channels=int(mbstd_ch),
        d_mapping_layers=len({k.split(".")[1] for k in d if re.match(r"mapping\.fc\d+\.", k)}),
    )
    return cfg, int(res), int(frames)


def load_strict(module: nn.Module, state: Mapping[str, Tensor], what: str) -> nn.Module:
    """Copy ``state`` into ``module``: the same key set and shapes, or a ``KeyError``/``ValueError`` listing them."""
    mine = module.state_dict()
    extra = sorted(set(state) - set(mine))
    missing = sorted(set(mine) - set(state))
    if extra or missing:
        raise KeyError(f"{what}: keys differ\n  only in the file: {extra}\n  only in the model: {missing}")
    bad = [
        f"{k}: file {tuple(v.shape)} vs model {tuple(mine[k].shape)}"
        for k, v in state.items()
        if tuple(v.shape) != tuple(mine[k].shape)
    ]
    if bad:
        raise ValueError(f"{what}: shape mismatches\n  " + "\n  ".join(bad))
    module.load_state_dict({k: v.to(mine[k].dtype) for k, v in state.items()}, strict=True)
    return module


def import_weights(src: Path, out: Path) -> Path:
    """Official snapshot ``src`` → vidgan checkpoint ``out`` (a file, or a folder that receives
    ``<src stem>.pt``). G, D and G_ema are each rebuilt and loaded strictly. Returns the file written."""
    from vidgan import __version__

    src, out = Path(src), Path(out)
    if not src.is_file():
        raise FileNotFoundError(f"styleganv convert: no network pickle at {src}")
    if out.is_dir() or not out.suffix:
        out = out / f"{src.stem}.pt"
    snap = read_network_pickle(src)
    states = {name: stub_state_dict(snap[name]) for name in ("G", "D", "G_ema") if name in snap}
    cfg, res, frames = config_from_states(states["G"], states["D"])
    modules = {
        "generator": {
            k: v.clone() for k, v in load_strict(Generator(cfg, res), states["G"], "G").state_dict().items()
        },
        "discriminator": {
            k: v.clone()
            for k, v in load_strict(Discriminator(cfg, res, frames), states["D"], "D").state_dict().items()
        },
    }
    ema = None
    if "G_ema" in states:
        ema = {
            k: v.clone() for k, v in load_strict(Generator(cfg, res), states["G_ema"], "G_ema").state_dict().items()
        }
    ckpt = {
        "vidgan_version": __version__,
        "config": {
            "family": dataclasses.asdict(cfg),
            "preset": "styleganv",
            "data": {"size": res, "frames": frames, "sampler": "random_t", "max_dist": 32},
            "train": {},
            "seed": 0,
        },
        "modules": modules,
        "ema": ema,
        "ema_role": "generator",
        "source": {
            "file": src.name,
            "sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
            "format": "universome/stylegan-v@3fecd69 network-snapshot pickle",
        },
    }
    with atomic_write(out) as f:
        torch.save(ckpt, f)
    return out
