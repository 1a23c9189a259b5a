"""Import official unpaired TimeCycleGAN checkpoints (TimeCycleGAN-UP / CycleGAN, fa9r/TimeCycleGAN @ b479c99).

Read: ``generator_target.pth`` (source -> target) and ``generator_source.pth`` (target -> source), the two
generators inference needs, and when present the motion models ``timecycle_{target,source}_motion_model_
{forward,backward}.pth`` (the naming of ``define_timecycle``; a shared model saved twice is tied). The
discriminator file names of the unpaired models are not pinned by the golden fixtures, so discriminators
are not imported (a converted checkpoint serves inference and warm starts of the generators).
``module.`` prefixes are stripped; architectures are read from the tensors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from vidgan.temporal.checkpoints import generator_spec, read_state, same_state, save_imported

__all__ = ["import_weights"]

FORMAT = "fa9r/TimeCycleGAN@b479c99"


def import_weights(
    src: str | Path,
    out: str | Path,
    *,
    epoch: int | None = None,
    frames: int = 5,
    source_channels: int = 3,
    overrides: dict[str, Any] | None = None,
) -> Path:
    """Convert an official unpaired checkpoint folder to a vidgan checkpoint (generators, motion models)."""
    from . import Config, build_modules

    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"not an official checkpoint folder: {src}")
    if out.is_dir() or not out.suffix:
        out = out / f"{src.name}.pt"
    suffix = "" if epoch is None else f"_{epoch}"
    names = ["generator_target", "generator_source"] + [
        f"timecycle_{d}_motion_model_{w}" for d in ("target", "source") for w in ("forward", "backward")
    ]
    paths = {n: src / f"{n}{suffix}.pth" for n in names if (src / f"{n}{suffix}.pth").is_file()}
    missing = [n for n in names[:2] if n not in paths]
    if missing:
        raise FileNotFoundError(f"{src}: missing {', '.join(f'{n}{suffix}.pth' for n in missing)}")
    st = {n: read_state(p) for n, p in paths.items()}
    arch, ngf, g_in, ct = generator_spec(st["generator_target"])
    n_prev, rem = divmod(g_in - source_channels, ct)
    if rem or n_prev < 0:
        raise ValueError(f"{src}: generator_target input {g_in} is not {source_channels} + n * {ct}")
    fam: dict[str, Any] = {
        "generator": arch,
        "ngf": ngf,
        "source_channels": source_channels,
        "target_channels": ct,
        "n_frames_g": n_prev,
        "variant": "timecycle" if n_prev > 0 else "cyclegan",
        "seq_d": False,
    }
    fwd = st.get("timecycle_target_motion_model_forward")
    if fwd is not None:
        m_arch, m_filters, _, _ = generator_spec(fwd, "motion model")
        shared = all(
            same_state(st[f"timecycle_{d}_motion_model_forward"], st.get(f"timecycle_{d}_motion_model_backward", {}))
            for d in ("target", "source")
            if f"timecycle_{d}_motion_model_forward" in st
        )
        fam.update(motion_architecture=m_arch, motion_filters=m_filters, separate_motion_models=not shared)
    else:
        fam.update(tc_weight=0.0, tc_warp_weight=0.0, tc_frame_d=False)
    fam.update(overrides or {})
    cfg = dataclasses.replace(Config(), **fam)
    mods = build_modules(cfg, frames)
    mods["generator"].net.load_state_dict(st["generator_target"], strict=True)
    mods["generator_source"].net.load_state_dict(st["generator_source"], strict=True)
    loaded = {"generator": mods["generator"].state_dict(), "generator_source": mods["generator_source"].state_dict()}
    for d, role in (("target", "timecycle"), ("source", "timecycle_source")):
        f = st.get(f"timecycle_{d}_motion_model_forward")
        if f is None or role not in mods:
            continue
        tc = mods[role]
        if cfg.separate_motion_models:
            tc.motion_forward.load_state_dict(f, strict=True)
            tc.motion_backward.load_state_dict(st[f"timecycle_{d}_motion_model_backward"], strict=True)
        else:
            tc.motion.load_state_dict(f, strict=True)
        loaded[role] = tc.state_dict()
    preset = "up" if cfg.variant == "timecycle" else "cyclegan"
    data = {"frames": frames, "sampler": "translation", "pairing": "unpaired"}
    return save_imported(out, dataclasses.asdict(cfg), preset, data, loaded, list(paths.values()), FORMAT)
