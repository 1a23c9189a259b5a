"""Import official TimeCycleGAN checkpoints (fa9r/TimeCycleGAN @ b479c99) key for key.

The official ``checkpoints/<model_name>/`` folder holds one raw state dict per network, ``<net>.pth``
(latest) and ``<net>_<epoch>.pth``: ``generator``, ``discriminator``, ``discriminator_seq[_k]``,
``timecycle_target_motion_model_{forward,backward}``. GPU runs prefix every key with ``module.``
(DataParallel): stripped. A shared motion model is saved under both motion keys with identical tensors:
tied to one module (``separate_motion_models`` when they differ). Discriminators trained with feature
matching (``store_layers``) hold every conv twice (``model<k>.0.*`` and ``model.*``): both accepted, the
aliases checked against their twins.

The architecture is read from the tensors (generator / motion-model type, blocks, filters, input channels;
PatchGAN layers and width; number of sequence-D scales and frames per window). What the checkpoints cannot
tell (loss weights, G history layout when ambiguous) comes from the keyword arguments or the defaults.

Output (what ``vidgan translate --checkpoint`` reads) = the engine's checkpoint layout reduced to inference::

    {"vidgan_version", "config": {"family": <Config dict>, "preset": "p", "data": {"frames", "sampler",
     "pairing"}, "train": {}, "seed": 0}, "modules": {role: state_dict}, "ema": None,
     "source": {"files": {...: sha256}, "format": "fa9r/TimeCycleGAN@b479c99"}}
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from torch import Tensor

from vidgan.temporal.checkpoints import generator_spec, patchgan_spec, read_state, same_state, save_imported

from .config import Config

__all__ = ["import_weights", "read_state", "generator_spec", "read_official_folder"]

FORMAT = "fa9r/TimeCycleGAN@b479c99"
_NETS = (
    "generator",
    "discriminator",
    "timecycle_target_motion_model_forward",
    "timecycle_target_motion_model_backward",
)


def read_official_folder(src: str | Path, epoch: int | None = None) -> dict[str, dict[str, Tensor]]:
    """``{net name: state}`` of every known network file in an official checkpoint folder (or one file)."""
    src = Path(src)
    if src.is_file():
        return {"generator": read_state(src)}
    if not src.is_dir():
        raise FileNotFoundError(f"not a checkpoint folder or file: {src}")
    suffix = "" if epoch is None else f"_{epoch}"
    names = list(_NETS) + ["discriminator_seq"] + [f"discriminator_seq_{k}" for k in range(2, 9)]
    found = {n: read_state(src / f"{n}{suffix}.pth") for n in names if (src / f"{n}{suffix}.pth").is_file()}
    if "generator" not in found:
        raise FileNotFoundError(f"{src}: no generator{suffix}.pth")
    return found


def import_weights(
    src: str | Path,
    out: str | Path,
    *,
    epoch: int | None = None,
    frames: int = 5,
    source_channels: int = 3,
    n_frames_g: int | None = None,
    g_input_conditioning: bool = False,
    tc_mode: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Path:
    """Convert an official checkpoint folder (or a single ``generator.pth``) to a vidgan checkpoint.

    ``out`` is the file, or a folder (existing, or a path without suffix) that receives ``<src name>.pt``.
    ``frames``: the training block length B (5 by default; the sequence D's window is read from its weights).
    ``n_frames_g``/``g_input_conditioning``: the generator's history layout when its input width is ambiguous.
    ``tc_mode="pingpong"`` for a ping-pong model (it has no motion-model files). Returns the file written.
    """
    from . import build_modules  # late: the family package imports this module's siblings

    src, out = Path(src), Path(out)
    if out.is_dir() or not out.suffix:
        out = out / f"{src.stem if src.is_file() else src.name}.pt"
    states = read_official_folder(src, epoch)
    gen_arch, ngf, g_in, ct = generator_spec(states["generator"])
    cs = source_channels
    if n_frames_g is None:
        per = (cs + ct) if g_input_conditioning else ct
        n_prev, rem = divmod(g_in - cs, per)
        if rem or n_prev < 0:
            raise ValueError(
                f"{src}: generator input has {g_in} channels, not {cs} + n * {per}; pass n_frames_g / "
                "g_input_conditioning / source_channels"
            )
    else:
        n_prev = n_frames_g
    fam: dict[str, Any] = {
        "generator": gen_arch,
        "ngf": ngf,
        "source_channels": cs,
        "target_channels": ct,
        "n_frames_g": n_prev,
        "g_input_conditioning": g_input_conditioning,
        "variant": "timecycle" if n_prev > 0 else "pix2pix",
    }
    if "discriminator" in states:
        n_layers, ndf, d_in = patchgan_spec(states["discriminator"])
        if d_in != cs + ct:
            raise ValueError(f"{src}: discriminator input {d_in} != source + target channels {cs + ct}")
        fam.update(discriminator="basic" if n_layers == 3 else f"n_layers_{n_layers}", ndf=ndf)
    seq = [n for n in ["discriminator_seq"] + [f"discriminator_seq_{k}" for k in range(2, 9)] if n in states]
    fam["seq_d"] = bool(seq)
    if seq:
        _, _, s_in = patchgan_spec(states[seq[0]])
        fam.update(n_frames_d=s_in // ct, temporal_scales=len(seq))
    fwd = states.get("timecycle_target_motion_model_forward")
    bwd = states.get("timecycle_target_motion_model_backward", fwd)
    if fwd is not None:
        m_arch, m_filters, _, _ = generator_spec(fwd, "motion model")
        shared = same_state(fwd, bwd)
        fam.update(motion_architecture=m_arch, motion_filters=m_filters, separate_motion_models=not shared)
        fam["tc_mode"] = "conditional"
    elif tc_mode == "pingpong":
        fam["tc_mode"] = "pingpong"
    else:
        fam.update(tc_weight=0.0, tc_warp_weight=0.0, tc_frame_d=False)
    fam.update(overrides or {})
    cfg = dataclasses.replace(Config(), **fam)
    modules, _ = build_modules(cfg, frames)
    loaded: dict[str, dict[str, Tensor]] = {}
    modules["generator"].net.load_state_dict(states["generator"], strict=True)
    loaded["generator"] = modules["generator"].state_dict()
    if "discriminator" in states:
        modules["discriminator"].load_state_dict(states["discriminator"], strict=True)
        loaded["discriminator"] = modules["discriminator"].state_dict()
    if seq:
        sd = modules["seq_discriminator"]
        for d, name in zip(sd.discriminators, seq, strict=True):
            d.load_state_dict(states[name], strict=True)
        loaded["seq_discriminator"] = sd.state_dict()
    if fwd is not None:
        tc = modules["timecycle"]
        if cfg.separate_motion_models:
            tc.motion_forward.load_state_dict(fwd, strict=True)
            tc.motion_backward.load_state_dict(bwd, strict=True)
        else:
            tc.motion.load_state_dict(fwd, strict=True)
        loaded["timecycle"] = tc.state_dict()
    files = [src] if src.is_file() else sorted(src.glob("*.pth"))
    data = {"frames": frames, "sampler": "translation", "pairing": "paired"}
    return save_imported(out, dataclasses.asdict(cfg), "p", data, loaded, files, FORMAT)
