"""Import official TimeCycleGAN-U / DCGAN checkpoints (fa9r/TimeCycleGAN @ b479c99) key for key.

Files of an official ``checkpoints/<name>/`` folder: ``generator.pth`` (DCGAN G ``main.*``), ``encoder.pth``
(-U frame encoder), ``discriminator.pth``, ``discriminator_seq[_k].pth`` (DCGAN Ds), and
``timecycle_target_motion_model_{forward,backward}.pth`` (identical tensors for the shared model: tied).
``module.`` prefixes (DataParallel) are stripped. Widths and channels are read from the tensors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from vidgan.temporal.checkpoints import read_state, save_imported

__all__ = ["import_weights", "read_state"]

FORMAT = "fa9r/TimeCycleGAN@b479c99"


def import_weights(
    src: str | Path,
    out: str | Path,
    *,
    epoch: int | None = None,
    frames: int = 5,
    overrides: dict[str, Any] | None = None,
) -> Path:
    """Convert an official -U (``encoder.pth`` present) or DCGAN checkpoint folder to a vidgan checkpoint."""
    from . import Config, build_modules

    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"not an official checkpoint folder: {src}")
    if out.is_dir() or not out.suffix:
        out = out / f"{src.name}.pt"
    suffix = "" if epoch is None else f"_{epoch}"
    names = ["generator", "encoder", "discriminator", "timecycle_target_motion_model_forward"]
    names += ["timecycle_target_motion_model_backward", "discriminator_seq"] + [
        f"discriminator_seq_{k}" for k in range(2, 9)
    ]
    paths = {n: src / f"{n}{suffix}.pth" for n in names if (src / f"{n}{suffix}.pth").is_file()}
    if "generator" not in paths:
        raise FileNotFoundError(f"{src}: no generator{suffix}.pth")
    st = {n: read_state(p) for n, p in paths.items()}
    g = st["generator"]["main.0.weight"]  # (nz, 8 ngf, 4, 4)
    fam: dict[str, Any] = {
        "nz": g.shape[0],
        "ngf": g.shape[1] // 8,
        "channels": st["generator"]["main.12.weight"].shape[1],
    }
    fam["variant"] = "timecycle" if "encoder" in st else "dcgan"
    if "discriminator" in st:
        fam["ndf"] = st["discriminator"]["main.0.weight"].shape[0]
    seq = [n for n in names if n.startswith("discriminator_seq") and n in st]
    fam["seq_d"] = bool(seq)
    if seq:
        fam.update(n_frames_d=st[seq[0]]["main.0.weight"].shape[1] // fam["channels"], temporal_scales=len(seq))
    fwd = st.get("timecycle_target_motion_model_forward")
    bwd = st.get("timecycle_target_motion_model_backward", fwd)
    if fwd is not None:
        shared = fwd.keys() == bwd.keys() and all(torch.equal(fwd[k], bwd[k]) for k in fwd)
        fam.update(motion_filters=fwd["model.1.weight"].shape[0], separate_motion_models=not shared)
    else:
        fam.update(tc_weight=0.0, tc_warp_weight=0.0, tc_frame_d=False)
    if fam["variant"] == "dcgan":
        fam.update(pool_size=0)
    fam.update(overrides or {})
    cfg = dataclasses.replace(Config(), **fam)
    mods = build_modules(cfg, frames)
    if cfg.variant == "timecycle":
        mods["generator"].net.generator.load_state_dict(st["generator"], strict=True)
        mods["generator"].net.encoder.load_state_dict(st["encoder"], strict=True)
    else:
        mods["generator"].load_state_dict(st["generator"], strict=True)
    loaded = {"generator": mods["generator"].state_dict()}
    if "discriminator" in st:
        mods["discriminator"].load_state_dict(st["discriminator"], strict=True)
        loaded["discriminator"] = mods["discriminator"].state_dict()
    if seq:
        for d, n in zip(mods["seq_discriminator"].discriminators, seq, strict=True):
            d.load_state_dict(st[n], strict=True)
        loaded["seq_discriminator"] = mods["seq_discriminator"].state_dict()
    if fwd is not None:
        tc = mods["timecycle"]
        if cfg.separate_motion_models:
            tc.motion_forward.load_state_dict(fwd, strict=True)
            tc.motion_backward.load_state_dict(bwd, strict=True)
        else:
            tc.motion.load_state_dict(fwd, strict=True)
        loaded["timecycle"] = tc.state_dict()
    preset = "u" if cfg.variant == "timecycle" else "dcgan"
    data = {"frames": frames, "size": 64, "sampler": "clips"}
    return save_imported(out, dataclasses.asdict(cfg), preset, data, loaded, list(paths.values()), FORMAT)
