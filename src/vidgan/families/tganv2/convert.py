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

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vidgan import __version__
from vidgan.core.atomic import atomic_path, atomic_write
from vidgan.io.safe_load import load_tensors, load_torch

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


FORMAT = "pfnet-research/tgan2@f892bc4 Chainer save_npz snapshot"

# The official configurations (the only ones pfnet-research/tgan2 released), by output side.
_OFFICIAL_PRESETS = {192: "ucf101_192", 256: "faceforensics_256"}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _recorded_source(path: Path) -> tuple[str, str] | None:
    """(file name, sha256) of the snapshot an earlier import wrote to ``path``; None if unreadable or not
    recorded (another file, or an import by an older vidgan)."""
    try:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), "pt") as f:
                meta = f.metadata() or {}
            name, sha = meta.get("source"), meta.get("sha256")
        else:
            src = (load_torch(path, "vidgan checkpoint") or {}).get("source") or {}
            name, sha = src.get("file"), src.get("sha256")
    except Exception:  # noqa: BLE001 - any unreadable file is "another file": never replaced silently
        return None
    return (str(name), str(sha)) if name and sha else None


def _refuse_overwrite(out: Path, src: Path, sha: str, named_by_src: bool) -> None:
    """An existing ``out`` is replaced only by a re-import of the same snapshot (same sha256)."""
    if not (out.exists() or out.is_symlink()):
        return
    if out.is_dir():
        raise IsADirectoryError(f"{out}: is a folder — pass a .pt / .safetensors file path or a new folder")
    old = _recorded_source(out)
    if old is not None and old[1] == sha:
        return  # the same snapshot imported again: the file is rewritten with the same weights
    what = f"already holds an import of {old[0]} (sha256 {old[1][:12]})" if old else "already exists"
    other = f"rename {src.name} so it imports under another name" if named_by_src else "write to another path"
    raise FileExistsError(f"{out}: {what}, not an import of {src} — delete {out.name} first, or {other}")


def import_weights(src: Path, out: Path) -> Path:
    """Official ``generator_iter_*.npz`` -> a vidgan checkpoint that ``vidgan generate --checkpoint`` reads.

    ``out`` is the checkpoint file, or a folder (an existing directory or a path without suffix, as
    ``vidgan weights import tganv2 SRC`` passes ``$VIDGAN_HOME/weights/tganv2``) that receives
    ``<src stem>.pt``. Written atomically, in the engine's checkpoint layout reduced to inference (as
    ``tecogan.convert``)::

        {"vidgan_version": str, "config": {"family": <Config inferred from the tensors>, "preset": "ucf101_192" |
         "faceforensics_256" | "", "data": {"sampler": "multilevel", "frames", "size", "subsample_frame"},
         "train": {}, "seed": 0},
         "modules": {"generator" | "discriminator": state_dict}, "ema": None,
         "source": {"file": name, "sha256": hex, "format": FORMAT}}

    The snapshot does not record the clip length: ``n_frames`` is the release's 16. Discriminator npz files
    (``level{i}/...``) convert the same way (role ``discriminator``, default generator widths). An ``out``
    ending in ``.safetensors`` receives the bare state dict with the config in its metadata instead. An
    existing ``out`` is replaced only by a re-import of the same snapshot (same sha256); another file there
    is refused (``FileExistsError``). Returns the file written.
    """
    src, out = Path(src), Path(out)
    if out.is_file() and not out.suffix:
        raise FileExistsError(
            f"{out}: a file written by an older `vidgan weights import tganv2` (not a vidgan checkpoint) is in the "
            f"way — delete it and import again (imports now go to {out}/<snapshot name>.pt)"
        )
    named_by_src = out.is_dir() or not out.suffix
    if named_by_src:
        out = out / f"{src.stem}.pt"
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
    state = {k: v.detach().clone().contiguous() for k, v in module.state_dict().items()}
    sha = _sha256(src)
    _refuse_overwrite(out, src, sha, named_by_src)
    if out.suffix == ".safetensors":
        from safetensors.torch import save_file

        meta = {
            "family": "tganv2",
            "role": role,
            "source": src.name,
            "sha256": sha,
            "config": json.dumps(dataclasses.asdict(cfg)),
        }
        with atomic_path(out, suffix=".safetensors") as tmp:
            save_file(state, tmp, metadata=meta)
        return out
    ckpt = {
        "vidgan_version": __version__,
        "config": {
            "family": dataclasses.asdict(cfg),
            "preset": _OFFICIAL_PRESETS.get(cfg.image_size, ""),
            "data": {
                "sampler": "multilevel",
                "frames": cfg.n_frames,
                "size": cfg.image_size,
                "subsample_frame": list(cfg.subsample_frame),
            },
            "train": {},
            "seed": 0,
        },
        "modules": {role: state},
        "ema": None,
        "source": {"file": src.name, "sha256": sha, "format": FORMAT},
    }
    with atomic_write(out) as f:
        torch.save(ckpt, f)
    return out
