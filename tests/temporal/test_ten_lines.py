"""docs/temporal.md's "ten lines" example runs as written: a plain per-frame GAN gains the TimeCycle loss and
a sequence D, trains a few steps, losses stay finite and every added network's parameters change."""

from __future__ import annotations

import re
from pathlib import Path

import torch

DOC = Path(__file__).resolve().parents[2] / "docs" / "temporal.md"


def _block() -> str:
    text = DOC.read_text()
    m = re.search(r"<!-- ten-lines:start -->\s*```python\n(.*?)```\s*<!-- ten-lines:end -->", text, re.S)
    assert m, "docs/temporal.md lost its ten-lines block"
    return m.group(1)


def test_ten_lines_example_trains():
    code = _block()
    added = [line for line in code.splitlines() if "# +TC" in line]
    assert 1 <= len(added) <= 10
    setup, loop = code.split("for step in range", 1)
    ns: dict = {}
    exec(compile(setup, str(DOC), "exec"), ns)
    before = {name: [p.detach().clone() for p in ns[name].parameters()] for name in ("G", "D", "tc", "seq")}
    exec(compile("for step in range" + loop, str(DOC), "exec"), ns)
    for key in ("ld", "lg"):
        assert torch.isfinite(ns[key]).all()
    for name, params in before.items():
        after = list(ns[name].parameters())
        assert params and any(not torch.equal(a, b) for a, b in zip(params, after, strict=True)), name
    # the shared motion model is in G's optimizer once
    ids = [id(p) for g in ns["opt_g"].param_groups for p in g["params"]]
    assert len(ids) == len(set(ids))
    # the example's TimeCycle really ran: long and skip rollouts over L = T - 1 frames
    assert ns["r"].L == ns["src"].shape[1] - 1 and ns["r"].pred_skip is not None
