"""engine.logging.RunLogger: one JSON object per record (progress + scalars) and TensorBoard events."""

import json

from vidgan.engine.logging import RunLogger


def test_jsonl_records_and_tensorboard(tmp_path):
    log = RunLogger(tmp_path)
    log.log(16, 2, {"G/loss": 0.5, "D/loss": 1.25})
    log.log(32, 4, {"G/loss": 0.25})
    log.close()
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(r["clips_seen"], r["step"]) for r in records] == [(16, 2), (32, 4)]
    assert records[0]["D/loss"] == 1.25 and records[1]["G/loss"] == 0.25 and "time" in records[0]
    assert any((tmp_path / "tensorboard").iterdir())


def test_without_tensorboard(tmp_path):
    log = RunLogger(tmp_path, tensorboard=False)
    log.log(1, 1, {"x": 1.0})
    log.close()
    assert not (tmp_path / "tensorboard").exists() and (tmp_path / "log.jsonl").is_file()
