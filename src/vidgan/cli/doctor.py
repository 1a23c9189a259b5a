"""``vidgan doctor``: a checklist of the installation (torch, threads, CUDA, video codecs, weights, disk)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from vidgan.cli import _console as console
from vidgan.cli._common import add_common, new_parser

LOW_DISK_WARN = 5 * 2**30  # bytes; a run with checkpoints and samples easily takes a few GiB
LOW_DISK_FAIL = 512 * 2**20
REQUIRED = ("numpy", "scipy", "PIL", "av", "cv2", "yaml", "tqdm", "safetensors", "tensorboard", "skimage")
_DIST_NAME = {"PIL": "pillow", "cv2": "opencv-python-headless", "yaml": "pyyaml", "skimage": "scikit-image"}


@dataclass
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail"
    detail: str
    fix: str = ""


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "doctor",
        help="check the installation (torch, CUDA, threads, H.264, weights, disk)",
        description=(
            "Print a checklist of what vidgan needs: the torch build (CPU/CUDA) and its intra-op threads versus "
            "the usable cores (and OMP_NUM_THREADS), CUDA devices, PyAV with a real H.264 encode + decode of a "
            "tiny clip, Pillow (GIF), the Python packages, the weight cache ($VIDGAN_HOME, default "
            "~/.cache/vidgan) and which registered weights it holds, write permission of the current folder "
            "and of $VIDGAN_HOME, and free disk space. Each line is ok, warn or fail, with what to do about it. "
            "An ffmpeg binary is not needed (PyAV bundles FFmpeg). Exit status 0 when nothing fails, 1 otherwise. "
            "--quiet prints only the warn / fail lines and the summary; --verbose adds each check's time."
        ),
        example="vidgan doctor --json",
    )
    p.add_argument("--json", action="store_true", help='print {"ok": bool, "checks": [{name, status, detail, fix}]}')
    add_common(p, device=False)
    p.set_defaults(func=run)


# ------------------------------------------------------------------------------------------------ checks


def check_vidgan() -> list[Check]:
    import vidgan

    where = Path(vidgan.__file__).resolve().parent
    return [Check("vidgan", "ok", f"{vidgan.__version__} at {where}, Python {sys.version.split()[0]}")]


def check_torch() -> list[Check]:
    import torch

    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
    return [Check("torch", "ok", f"{torch.__version__}, {build}")]


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_threads() -> list[Check]:
    import torch

    n, cores = torch.get_num_threads(), usable_cores()
    omp = os.environ.get("OMP_NUM_THREADS")
    detail = f"{n} intra-op threads, {cores} usable cores, OMP_NUM_THREADS={omp if omp is not None else '(unset)'}"
    if omp is not None and not omp.strip().isdigit():
        return [
            Check("threads", "warn", detail, f"OMP_NUM_THREADS must be a whole number; set OMP_NUM_THREADS={cores}")
        ]
    if n > cores:
        return [Check("threads", "warn", detail + " (oversubscribed: slow)", f"set OMP_NUM_THREADS={cores}")]
    return [Check("threads", "ok", detail)]


def check_cuda() -> list[Check]:
    import torch

    if not torch.version.cuda:
        return [
            Check(
                "cuda",
                "warn",
                "CPU-only torch: training and metrics run on the CPU (slow beyond tiny presets)",
                "on a machine with an NVIDIA GPU install a CUDA build of torch (pytorch.org/get-started)",
            )
        ]
    if not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        return [
            Check(
                "cuda",
                "warn",
                f"CUDA {torch.version.cuda} build, but no device is visible"
                + (f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""),
                "check the driver with nvidia-smi and CUDA_VISIBLE_DEVICES",
            )
        ]
    devs = []
    for i in range(torch.cuda.device_count()):
        prop = torch.cuda.get_device_properties(i)
        devs.append(f"cuda:{i} {prop.name} ({prop.total_memory / 2**30:.0f} GiB)")
    return [Check("cuda", "ok", ", ".join(devs))]


def _roundtrip(suffix: str) -> str:
    """Encode an 8-frame clip to a temporary file and read it back; returns a short description."""
    import numpy as np

    import vidgan.io as vio

    t, h, w = 8, 48, 64
    yy, xx = np.mgrid[0:h, 0:w]
    clip = np.stack(
        [np.stack([(xx * 4 + k * 8) % 256, (yy * 5) % 256, np.full_like(xx, 128)], -1) for k in range(t)]
    ).astype(np.uint8)
    with tempfile.TemporaryDirectory(prefix="vidgan-doctor-") as d:
        path = Path(d) / f"clip{suffix}"
        vio.write_video(path, clip, fps=8)
        size = path.stat().st_size
        back = vio.read_video(path)
    if back.shape != clip.shape:
        raise ValueError(f"read back {back.shape}, wrote {clip.shape}")
    err = float(np.abs(back.astype(np.float32) - clip.astype(np.float32)).mean())
    if err > 12:
        raise ValueError(f"decoded frames differ from the encoded ones (mean abs error {err:.1f})")
    return f"{t} frames {w}x{h} written and read back ({size} bytes, mean abs error {err:.2f})"


def check_video() -> list[Check]:
    out = []
    try:
        import av

        version = av.__version__
        encoders = sorted(n for n in ("libx264", "libopenh264") if n in av.codecs_available)
    except Exception as e:
        return [Check("pyav", "fail", f"cannot import av: {e}", "pip install 'av>=12' (wheels bundle FFmpeg)")]
    try:
        desc = _roundtrip(".mp4")
        out.append(Check("h264", "ok", f"PyAV {version} ({', '.join(encoders) or 'no x264'}): {desc}"))
    except Exception as e:
        out.append(
            Check(
                "h264",
                "fail",
                f"PyAV {version}: H.264 encode/decode failed ({type(e).__name__}: {e})",
                "reinstall PyAV from the PyPI wheels, which include libx264: pip install --force-reinstall av",
            )
        )
    return out


def check_pillow() -> list[Check]:
    try:
        import PIL

        version = PIL.__version__
        desc = _roundtrip(".gif")
        return [Check("pillow", "ok", f"Pillow {version}: GIF {desc}")]
    except Exception as e:
        return [
            Check("pillow", "fail", f"GIF encode/decode failed ({type(e).__name__}: {e})", "pip install -U pillow")
        ]


def check_ffmpeg() -> list[Check]:
    found = shutil.which("ffmpeg")
    return [
        Check("ffmpeg", "ok", "not needed (PyAV bundles FFmpeg); binary " + (f"at {found}" if found else "absent"))
    ]


def check_packages() -> list[Check]:
    import importlib.metadata
    import importlib.util

    missing, have = [], []
    for mod in REQUIRED:
        dist = _DIST_NAME.get(mod, mod)
        if importlib.util.find_spec(mod) is None:
            missing.append(dist)
            continue
        try:
            have.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            have.append(dist)
    if missing:
        return [Check("packages", "fail", f"missing: {', '.join(missing)}", f"pip install {' '.join(missing)}")]
    return [Check("packages", "ok", ", ".join(have))]


def check_lpips_asset() -> list[Check]:
    import vidgan

    p = Path(vidgan.__file__).resolve().parent / "assets" / "lpips_v0.1_alex_lin.safetensors"
    if p.is_file() and p.stat().st_size > 0:
        return [Check("lpips", "ok", f"bundled LPIPS linear layers at {p}")]
    return [
        Check("lpips", "fail", f"{p} missing (lpips_teco / tlp_teco need it)", "reinstall vidgan: pip install -e .")
    ]


def _existing_ancestor(p: Path) -> Path:
    p = p.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _writable(folder: Path) -> tuple[bool, str]:
    """Try to create a file in ``folder`` (or in its nearest existing ancestor, when it is not made yet)."""
    target = _existing_ancestor(folder)
    if not target.is_dir():
        return False, f"{target} is not a folder"
    try:
        fd, tmp = tempfile.mkstemp(prefix=".vidgan-doctor-", dir=target)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        return False, e.strerror or type(e).__name__
    return True, "" if target == folder.absolute() else f"(not created yet; {target} is writable)"


def check_cache() -> list[Check]:
    from vidgan.metrics import weights as W

    home = W.vidgan_home()
    src = "$VIDGAN_HOME" if os.environ.get("VIDGAN_HOME") else "default, $VIDGAN_HOME unset"
    out = []
    ok, why = _writable(home)
    if ok:
        out.append(Check("cache", "ok", f"{home} ({src}) writable {why}".rstrip()))
    else:
        out.append(
            Check(
                "cache",
                "fail",
                f"{home} ({src}) not writable: {why}",
                "set VIDGAN_HOME to a writable folder (dataset indexes, weights and statistics are cached there)",
            )
        )
    for name, spec in W.REGISTRY.items():
        try:
            p = W.path(name)
        except W.WeightsNotFoundError:
            out.append(
                Check(f"weights/{name}", "warn", f"missing; only needed for {spec.description}", spec.how_to_get)
            )
            continue
        out.append(Check(f"weights/{name}", "ok", f"present, {p.stat().st_size / 2**20:.1f} MiB at {p}"))
    return out


def check_cwd() -> list[Check]:
    cwd = Path.cwd()
    ok, why = _writable(cwd)
    if ok:
        return [Check("cwd", "ok", f"{cwd} writable")]
    return [
        Check(
            "cwd",
            "warn",
            f"{cwd} not writable: {why}",
            "run from a writable folder or pass --run-dir / --out pointing to one (default run folders go to ./runs)",
        )
    ]


def check_disk() -> list[Check]:
    from vidgan.metrics.weights import vidgan_home

    out, seen = [], set()
    for label, folder in (("disk (cwd)", Path.cwd()), ("disk ($VIDGAN_HOME)", vidgan_home())):
        base = _existing_ancestor(folder)
        try:
            dev = base.stat().st_dev
            usage = shutil.disk_usage(base)
        except OSError as e:
            out.append(Check(label, "warn", f"cannot stat {base}: {e.strerror}", "check that the folder is reachable"))
            continue
        if dev in seen:
            continue
        seen.add(dev)
        free = usage.free / 2**30
        detail = f"{free:.1f} GiB free of {usage.total / 2**30:.1f} GiB at {base}"
        if usage.free < LOW_DISK_FAIL:
            out.append(Check(label, "fail", detail, "free some space: checkpoints and sample videos need room"))
        elif usage.free < LOW_DISK_WARN:
            out.append(Check(label, "warn", detail, "under 5 GiB: a long run's checkpoints may not fit; free space"))
        else:
            out.append(Check(label, "ok", detail))
    return out


CHECKS: list[Callable[[], list[Check]]] = [
    check_vidgan,
    check_torch,
    check_threads,
    check_cuda,
    check_video,
    check_pillow,
    check_ffmpeg,
    check_packages,
    check_lpips_asset,
    check_cache,
    check_cwd,
    check_disk,
]


def diagnose() -> list[Check]:
    """Run every check; a check that itself breaks is reported as a failure, never a traceback."""
    out = []
    for fn in CHECKS:
        try:
            with console.timed(fn.__name__.removeprefix("check_")):
                out.extend(fn())
        except Exception as e:
            name = fn.__name__.removeprefix("check_")
            out.append(
                Check(name, "fail", f"check crashed: {type(e).__name__}: {e}", "run with --debug and report it")
            )
    return out


def format_line(c: Check) -> str:
    line = f"{c.status:<5} {c.name:<24} {c.detail}"
    return line + (f" — {c.fix}" if c.fix and c.status != "ok" else "")


def run(args: argparse.Namespace) -> int:
    checks = diagnose()
    if getattr(args, "debug", False):
        bad = [c for c in checks if c.detail.startswith("check crashed")]
        if bad:
            raise RuntimeError(bad[0].detail)
    counts = {s: sum(c.status == s for c in checks) for s in ("ok", "warn", "fail")}
    ok = counts["fail"] == 0
    if args.json:
        print(json.dumps({"ok": ok, "counts": counts, "checks": [asdict(c) for c in checks]}, indent=1))
    else:
        for c in checks:
            if c.status != "ok" or not console.quiet():  # --quiet: only the problems and the summary
                print(format_line(c))
        print(f"summary: {counts['ok']} ok, {counts['warn']} warn, {counts['fail']} fail")
    return 0 if ok else 1
