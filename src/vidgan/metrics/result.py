"""One metric value together with the exact protocol that produced it.

Every vidgan metric returns ``MetricResult`` objects: a bare number such as "FVD = 120" is not
comparable across papers (metrics.md §1.4), so the protocol (weights id, resize, frames, N, ...) is
always carried alongside the value.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and paths into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "tolist"):  # numpy scalar / array, torch tensor
        return _jsonable(value.tolist())
    return str(value)


@dataclass(frozen=True)
class MetricResult:
    """A metric value with its protocol.

    Attributes:
        metric: protocol-encoding name, e.g. ``"fvd_2048_16f"`` or ``"psnr_y_teco"``.
        value: the scalar value (float).
        protocol: everything needed to reproduce the number (weights sha256, resize, frames,
            stride, N real/fake, estimator, ...). Values must be JSON-serialisable (numpy scalars
            are converted by ``to_dict``).
    """

    metric: str
    value: float
    protocol: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict ``{"metric", "value", "protocol"}``."""
        return {"metric": self.metric, "value": float(self.value), "protocol": _jsonable(self.protocol)}

    def to_json(self, **kwargs: Any) -> str:
        """JSON string of ``to_dict()``; ``kwargs`` go to ``json.dumps``."""
        return json.dumps(self.to_dict(), **kwargs)

    def protocol_string(self) -> str:
        """Compact ``key=value, ...`` rendering of the protocol for human output."""
        return ", ".join(f"{k}={v}" for k, v in self.protocol.items())

    def __str__(self) -> str:
        return f"{self.metric} = {self.value:.6g}  [{self.protocol_string()}]"
