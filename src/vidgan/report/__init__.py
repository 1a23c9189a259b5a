"""vidgan.report: self-contained HTML reports (open from disk, no server, no network).

* :func:`write_run_report` — ``RUN_DIR/report.html`` about a training run (samples, curves, checkpoints,
  config, environment, throughput); ``vidgan report RUN_DIR`` rebuilds it.
* :func:`write_eval_report` — ``OUT_DIR/report.html`` for ``vidgan eval --report OUT_DIR`` (metric table with
  protocols, per-frame VSR plots, input / output / ground-truth strips).

Layering: imports ``vidgan.core``, ``vidgan.io`` and ``vidgan.metrics`` (result types, names) only.
"""

from vidgan.report.eval_report import write_eval_report
from vidgan.report.run_report import write_run_report

__all__ = ["write_run_report", "write_eval_report"]
