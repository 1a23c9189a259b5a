"""`vidgan train --eval fvd --eval-every N`: FVD of EMA samples vs the validation split, logged."""

import json

import pytest

from vidgan.cli.main import main


def test_periodic_fvd_is_logged(tmp_path, i3d_weights, capsys):
    run = tmp_path / "run"
    argv = [
        "train",
        "tganv2:tiny",
        "train.batch_size=1",
        "train.sample_every_clips=1000",
        "--run-dir",
        str(run),
        "--max-clips",
        "2",
        "--no-progress",
        "--eval",
        "fvd",
        "--eval-every",
        "2",
        "--eval-num",
        "3",
    ]
    assert main(argv) == 0
    logs = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    # the logged name carries the protocol: 3 videos per side, 16 frames
    fvd = [rec["eval/fvd_3_16f"] for rec in logs if "eval/fvd_3_16f" in rec]
    assert len(fvd) == 2 and min(fvd) > 10  # at 0 clips (baseline) and at 2; untrained vs real digits: far apart
    assert logs[0]["clips_seen"] == 0 and "eval/fvd_3_16f" in logs[0]
    out = capsys.readouterr().out
    assert "[eval @ 0 clips] fvd_3_16f=" in out and "[eval @ 2 clips] fvd_3_16f=" in out


def test_eval_needs_an_interval_and_a_distribution_metric(tmp_path, capsys):
    base = ["train", "tganv2:tiny", "--run-dir", str(tmp_path), "--max-clips", "1", "--no-progress"]
    assert main([*base, "--eval", "fvd"]) == 1
    assert "--eval-every" in capsys.readouterr().err
    assert main([*base, "--eval", "psnr_y_teco", "--eval-every", "1"]) == 1
    assert "only distribution metrics" in capsys.readouterr().err


@pytest.mark.parametrize("metric", ["nonsense"])
def test_unknown_eval_metric(tmp_path, metric, capsys):
    assert (
        main(
            [
                "train",
                "tganv2:tiny",
                "--run-dir",
                str(tmp_path),
                "--max-clips",
                "1",
                "--no-progress",
                "--eval",
                metric,
                "--eval-every",
                "1",
            ]
        )
        == 1
    )
    assert "unknown metric" in capsys.readouterr().err
