"""Official Chainer checkpoints (``generator_iter_<N>.npz``) <-> vidgan TGANv2 modules, key for key.

Chainer ``save_npz`` writes a flat dict of ``/``-separated paths without a leading slash (golden README
"Key naming"); weight layouts are already PyTorch's (out, in, k...), so no transposes are needed.

Mapping (Chainer key -> vidgan state-dict key; P = Up blocks before level 1, 3 in the release):

- ``fc/{W,b}`` -> ``fc.{weight,bias}``
- ``decoder{i}/{w_xifoc,w_hifoc}/{W,b}`` -> ``clstm.{i}.{w_xifoc,w_hifoc}.{weight,bias}`` (w_hifoc: no b)
- ``block{k}/{c1,c2,c_sc}/{W,b}`` -> ``blocks.{k-1}.{c1,c2,c_sc}.{weight,bias}``
- ``block{k}/{b1,b2}/{gamma,beta,avg_mean,avg_var}`` -> ``blocks.{k-1}.{b1,b2}.{weight,bias,running_*}``
- ``b{P+l}/...``, ``c{P+l}/{W,b}`` -> ``renders.{l}.bn.*``, ``renders.{l}.conv.*`` (l = 0..3)
- ``level{i}/block{k}/...``, ``level{i}/l6/{W,b}`` -> ``levels.{i}.block{k}.*``, ``levels.{i}.l6.*``

The BN ``N`` entry is Chainer's fine-tune counter (always 0 in training): accepted and ignored.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vidgan.io.safe_load import load_tensors

from .config import Config
from .discriminator import TGANv2Discriminator
from .generator import TGANv2Generator

__all__ = ["load_chainer_state", "chainer_state", "chainer_key", "import_weights", "config_from_chainer"]

_BN_STATS = {"running_mean": "avg_mean", "running_var": "avg_var"}


def chainer_key(torch_key: str, n_pre: int) -> str | None:
    """vidgan state-dict key -> Chainer npz key (None for ``num_batches_tracked``)."""
    parts = torch_key.split(".")
    leaf = parts[-1]
    if leaf == "num_batches_tracked":
        return None
    head = parts[:-1]
    is_bn = len(head) >= 1 and head[-1] in ("b1", "b2", "bn")
    if leaf == "weight":
        cleaf = "gamma" if is_bn else "W"
    elif leaf == "bias":
        cleaf = "beta" if is_bn else "b"
    else:
        cleaf = _BN_STATS[leaf]
    if head[0] == "clstm":
        path = [f"decoder{head[1]}", *head[2:]]
    elif head[0] == "blocks":
        path = [f"block{int(head[1]) + 1}", *head[2:]]
    elif head[0] == "renders":
        lvl = int(head[1])
        path = [("b" if head[2] == "bn" else "c") + str(n_pre + lvl)]
    elif head[0] == "levels":
        path = [f"level{head[1]}", *head[2:]]
    else:
        path = head
    return "/".join([*path, cleaf])


def _n_pre(module: nn.Module) -> int:
    cfg = getattr(module, "cfg", None)
    return cfg.n_pre_blocks if cfg is not None else 3


def _as_arrays(npz: str | os.PathLike | Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if isinstance(npz, Mapping):
        return {k: np.asarray(v) for k, v in npz.items()}
    path = Path(npz)
    if not path.is_file():
        raise FileNotFoundError(f"tganv2 convert: no Chainer checkpoint at {path} (expected generator_iter_*.npz)")
    return {k.lstrip("/"): np.asarray(v) for k, v in load_tensors(path, "TGANv2 Chainer snapshot").items()}


def load_chainer_state(module: nn.Module, npz: str | os.PathLike | Mapping[str, np.ndarray]) -> nn.Module:
    """Copy a Chainer ``save_npz`` state into ``module`` (a :class:`TGANv2Generator` or
    :class:`TGANv2Discriminator`) key for key; raises ``KeyError`` listing every unmatched key on
    either side and ``ValueError`` on shape mismatches. Returns ``module``."""
    arrays = _as_arrays(npz)
    n_pre = _n_pre(module)
    state = module.state_dict()
    wanted: dict[str, str] = {}
    for tkey in state:
        ckey = chainer_key(tkey, n_pre)
        if ckey is not None:
            wanted[ckey] = tkey
    extra = [k for k in arrays if k not in wanted and not k.endswith("/N")]
    missing = [k for k in wanted if k not in arrays]
    if extra or missing:
        raise KeyError(
            f"tganv2 convert: checkpoint does not match {type(module).__name__} "
            f"(check clstm_ch/ch/t_size/n_layers/mid_ch of the config).\n"
            f"  in the checkpoint but not the model: {sorted(extra)}\n"
            f"  in the model but not the checkpoint: {sorted(missing)}"
        )
    bad = []
    new_state = {}
    for ckey, tkey in wanted.items():
        arr = torch.from_numpy(np.ascontiguousarray(arrays[ckey]))
        if tuple(arr.shape) != tuple(state[tkey].shape):
            bad.append(f"{ckey}: checkpoint {tuple(arr.shape)} vs model {tuple(state[tkey].shape)}")
            continue
        new_state[tkey] = arr.to(state[tkey].dtype)
    if bad:
        raise ValueError("tganv2 convert: shape mismatches:\n  " + "\n  ".join(bad))
    module.load_state_dict(new_state, strict=False)
    return module


def chainer_state(module: nn.Module) -> dict[str, np.ndarray]:
    """The inverse: ``module`` -> Chainer npz keys (BN ``N`` written as int64 0, as Chainer does)."""
    out: dict[str, np.ndarray] = {}
    n_pre = _n_pre(module)
    for tkey, value in module.state_dict().items():
        if tkey.endswith("num_batches_tracked"):
            sibling = chainer_key(tkey.rsplit(".", 1)[0] + ".running_mean", n_pre)
            assert sibling is not None
            out[sibling.rsplit("/", 1)[0] + "/N"] = np.array(0, dtype=np.int64)
            continue
        ckey = chainer_key(tkey, n_pre)
        assert ckey is not None
        out[ckey] = value.detach().cpu().numpy()
    return out


def config_from_chainer(arrays: Mapping[str, np.ndarray], base: Config | None = None) -> Config:
    """Infer the generator widths from a Chainer generator state (fc, decoder*, block*, c*)."""
    from dataclasses import replace

    base = base or Config()
    if "fc/W" not in arrays or "decoder0/w_xifoc/W" not in arrays:
        raise KeyError("tganv2 convert: not a TGANv2 generator checkpoint (no fc/W or decoder0/w_xifoc/W)")
    fc_out, z_dim = arrays["fc/W"].shape
    clstm_ch = arrays["decoder0/w_xifoc/W"].shape[1]
    t_size = int(round((fc_out // clstm_ch) ** 0.5))
    n_layers = len({k.split("/")[0] for k in arrays if re.fullmatch(r"decoder\d+", k.split("/")[0])})
    n_blocks = len({k.split("/")[0] for k in arrays if re.fullmatch(r"block\d+", k.split("/")[0])})
    last = f"block{n_blocks}/c1/W"
    ch = arrays[last].shape[0]
    renders = sorted(int(k.split("/")[0][1:]) for k in arrays if re.fullmatch(r"c\d+/W", k))
    out_ch = arrays[f"c{renders[-1]}/W"].shape[0]
    return replace(
        base,
        z_slow_dim=int(z_dim),
        clstm_ch=int(clstm_ch),
        t_size=t_size,
        n_layers=n_layers,
        n_pre_blocks=n_blocks - 3,
        ch=int(ch),
        out_channels=int(out_ch),
    )


def import_weights(src: Path, out: Path) -> Path:
    """Official ``generator_iter_*.npz`` -> vidgan state dict at ``out`` (``.safetensors`` or torch
    ``.pt``); the inferred generator config is stored alongside (safetensors metadata / ``"config"``).
    Discriminator npz files (``level{i}/...``) convert the same way. Returns ``out``."""
    src, out = Path(src), Path(out)
    arrays = _as_arrays(src)
    if any(k.startswith("level") for k in arrays):
        mid = arrays["level0/block1/c1/W"].shape[0]
        cfg = Config(mid_ch=int(mid), out_channels=int(arrays["level0/block1/c1/W"].shape[1]))
        module: nn.Module = TGANv2Discriminator(cfg)
        role = "discriminator"
    else:
        cfg = config_from_chainer(arrays)
        module = TGANv2Generator(cfg)
        role = "generator"
    load_chainer_state(module, arrays)
    state = {k: v.contiguous() for k, v in module.state_dict().items()}
    meta = {
        "family": "tganv2",
        "role": role,
        "source": src.name,
        "config": json.dumps(
            {
                "clstm_ch": cfg.clstm_ch,
                "ch": cfg.ch,
                "t_size": cfg.t_size,
                "n_layers": cfg.n_layers,
                "n_pre_blocks": cfg.n_pre_blocks,
                "z_slow_dim": cfg.z_slow_dim,
                "mid_ch": cfg.mid_ch,
                "out_channels": cfg.out_channels,
            }
        ),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name, suffix=".tmp")
    os.close(fd)
    try:
        if out.suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file(state, tmp, metadata=meta)
        else:
            torch.save({role: state, "meta": meta}, tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
