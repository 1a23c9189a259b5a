"""Rebuild the README gallery from vidgan's own outputs (no other tool draws a pixel).

    python scripts/make_gallery.py --demo-run runs/demo --vsr-checkpoint runs/frvsr_cpu [--shared ../shared]

* ``docs/images/demo.gif``: the last sample grid `vidgan train tganv2:demo --run-dir runs/demo` wrote.
* ``docs/images/vsr_calendar.gif``: Vid4 calendar, LR made by `vidgan prepare --pairs bd`, upscaled by
  `vidgan upscale`; each frame is [bicubic (the network's skip) | vidgan upscale | ground truth], every 2nd frame.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


def vidgan(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "vidgan", *args, "-q"], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo-run", required=True)
    ap.add_argument("--vsr-checkpoint", required=True)
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    a = ap.parse_args()
    from vidgan.io import VideoReader
    from vidgan.io.writer import VideoWriter
    from vidgan.nn.bicubic import upsample_bicubic

    out_dir = REPO / "docs" / "images"
    out_dir.mkdir(parents=True, exist_ok=True)
    grids = sorted((Path(a.demo_run) / "samples").glob("samples-*.gif"))
    shutil.copyfile(grids[-1], out_dir / "demo.gif")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "src").mkdir()
        shutil.copytree(Path(a.shared) / "data" / "vid4_calendar_lr", t / "src" / "calendar")
        vidgan("prepare", str(t / "src"), str(t / "pairs"), "--pairs", "bd")
        vidgan("upscale", "--checkpoint", a.vsr_checkpoint, str(t / "pairs" / "lr" / "calendar"), str(t / "out.mp4"))
        lr = VideoReader(t / "pairs" / "lr" / "calendar").read()
        hr = VideoReader(t / "pairs" / "hr" / "calendar").read()
        out = VideoReader(t / "out.mp4").read()
        lr01 = torch.from_numpy(lr).permute(0, 3, 1, 2).float() / 255.0
        bic = (upsample_bicubic(lr01, 4).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
        with VideoWriter(out_dir / "vsr_calendar.gif", fps=4) as w:
            for b, o, g in list(zip(bic, out, hr))[::2]:
                row = np.concatenate(
                    [
                        b,
                        np.full((g.shape[0], 4, 3), 255, np.uint8),
                        o[: g.shape[0], : g.shape[1]],
                        np.full((g.shape[0], 4, 3), 255, np.uint8),
                        g,
                    ],
                    axis=1,
                )
                w.write(row)
    print("wrote", out_dir / "demo.gif", out_dir / "vsr_calendar.gif")


if __name__ == "__main__":
    main()
