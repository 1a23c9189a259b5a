"""The released 256² model: state-dict names, shapes, order and parameter counts equal the official ones
(``official_256_state_dict_shapes.json``), so official checkpoints load directly; the ``styleganv`` preset
builds exactly that model."""

from __future__ import annotations

import json
import re

import pytest

from vidgan.families.api import count_parameters
from vidgan.families.styleganv import PRESETS, Config, build
from vidgan.families.styleganv.discriminator import Discriminator
from vidgan.families.styleganv.generator import Generator


@pytest.fixture(scope="module")
def shapes(golden):
    return json.loads((golden / "official_256_state_dict_shapes.json").read_text())


@pytest.fixture(scope="module")
def models():
    import torch

    torch.manual_seed(0)
    return Generator(Config(), 256), Discriminator(Config(), 256, 3)


def _check(module, ref):
    sd = module.state_dict()
    assert list(sd) == list(ref["state_dict_shapes"])
    assert {k: list(v.shape) for k, v in sd.items()} == ref["state_dict_shapes"]
    assert [k for k, _ in module.named_parameters()] == ref["parameters"]
    assert count_parameters(module) == ref["num_parameters"]
    by_prefix = ref.get("parameter_count_by_prefix", {})
    params = dict(module.named_parameters())
    for prefix, n in by_prefix.items():
        # the JSON groups "b" as the resolution blocks (b8..b256 for D, epilogue b4 listed separately)
        if prefix == "b":
            got = sum(p.numel() for k, p in params.items() if re.match(r"b\d+\.", k) and not k.startswith("b4."))
        else:
            got = sum(p.numel() for k, p in params.items() if k.startswith(prefix))
        assert got == n, prefix


def test_generator_256(models, shapes):
    g, _ = models
    _check(g, shapes["G"])
    assert g.num_ws == shapes["G"]["num_ws"]
    fp16 = [r for r in g.synthesis.block_resolutions if getattr(g.synthesis, f"b{r}").use_fp16]
    assert fp16 == shapes["G"]["fp16_block_resolutions"]


def test_discriminator_256(models, shapes):
    _, d = models
    _check(d, shapes["D"])
    fp16 = [r for r in d.block_resolutions if getattr(d, f"b{r}").use_fp16]
    assert fp16 == shapes["D"]["fp16_block_resolutions"]


def test_preset_builds_the_released_model(shapes, data_spec):
    p = PRESETS["styleganv"]
    cfg = Config(**p["family"])
    parts = build(
        cfg,
        data_spec(
            **{k: v for k, v in p["data"].items() if k in ("size", "frames", "max_dist", "sampler")},
            source="/nonexistent.zip",
        ),
    )
    assert count_parameters(parts.modules["generator"]) == shapes["G"]["num_parameters"] == 32_105_941
    assert count_parameters(parts.modules["discriminator"]) == shapes["D"]["num_parameters"] == 25_333_568
    res = shapes["resolved_training_values_at_batch_64_on_4_gpus"]
    assert p["train"]["batch_size"] == res["batch_size"]
    assert p["train"]["ema_half_life_clips"] == res["ema_kimg"] * 1000
    assert cfg.ada_kimg == res["ada_kimg"] and cfg.mbstd_group_size == res["mbstd_group_size"]
    from vidgan.families.styleganv.loss import auto_r1_gamma

    assert auto_r1_gamma(p["data"]["size"], p["train"]["batch_size"]) == pytest.approx(res["r1_gamma"])
