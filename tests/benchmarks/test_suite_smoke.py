"""The benchmark suite runs and its JSON has every section (smoke: one tiny case, fp32)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_suite_runs_and_reports_every_section(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert {"machine", "peak", "train", "infer", "data", "metrics"} <= set(doc)
    assert doc["peak"]["fp32_gflops"] > 0 and doc["machine"]["git_commit"] is not None
    (case,) = doc["train"].values()
    fp32 = case["fp32"]
    assert "error" not in fp32, fp32
    assert fp32["iteration_seconds"] > 0 and fp32["flops_per_iteration"] > 0 and fp32["peak_rss_mb"] > 0
    assert 0 < fp32["fraction_of_peak"] < 1.5
    (inf,) = doc["infer"].values()
    assert inf["fp32"]["frames_per_second"] > 0
    assert doc["data"]["clips_per_second"] > 0 and doc["metrics"]["frechet_seconds"] > 0
