"""Every family honours the contract at its tiny preset (torchvision's test_video_model idea)."""

import copy

import pytest
import torch
from torch.utils.data import default_collate

from vidgan.core.seed import make_generator
from vidgan.data import build_dataset
from vidgan.engine.config import resolve_run_config
from vidgan.engine.trainer import build_parts
from vidgan.families import list_families, load_family
from vidgan.families.api import FamilyConfig, StepContext, count_parameters

FAMILIES = list_families()


def _setup(name):
    cfg = resolve_run_config(f"{name}:tiny", ["train.batch_size=2"])
    parts = build_parts(cfg)
    ds = build_dataset(cfg.data, "train", seed=0)
    batch = default_collate([ds[(i % len(ds), 100 + i)] for i in range(2)])
    return cfg, parts, batch


@pytest.mark.parametrize("name", FAMILIES)
def test_module_exposes_contract(name):
    fam = load_family(name)
    assert issubclass(fam.Config, FamilyConfig) and fam.Config().name == name
    assert "tiny" in fam.PRESETS
    assert getattr(fam, "DEFAULT_PRESET", "tiny") in fam.PRESETS


@pytest.mark.parametrize("name", FAMILIES)
def test_every_phase_gives_finite_grads(name):
    cfg, parts, batch = _setup(name)
    assert parts.objective is not None and parts.objective.phases
    for m in parts.modules.values():
        m.train()
    ctx = StepContext(step=0, clips_seen=0, generator=make_generator(0))
    for phase in parts.objective.phases:
        assert phase.optimizer in parts.optimizers and set(phase.modules) <= set(parts.modules)
        for role, m in parts.modules.items():
            m.requires_grad_(role in phase.modules)
        terms = parts.objective(phase.name, batch, parts.modules, ctx)
        assert terms, f"{name}: phase {phase.name} returned no loss terms on step 0"
        loss = sum(terms.values())
        assert loss.ndim == 0 and torch.isfinite(loss)
        parts.optimizers[phase.optimizer].zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for role in phase.modules for p in parts.modules[role].parameters() if p.grad is not None]
        assert grads, f"{name}: phase {phase.name} produced no gradients"
        assert all(torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", FAMILIES)
def test_output_shapes_ranges_and_determinism(name):
    cfg, parts, batch = _setup(name)
    for m in parts.modules.values():
        m.eval()
    with torch.no_grad():
        if parts.sample is not None:
            g = parts.modules["generator"]
            a = parts.sample(g, 2, cfg.data.frames, make_generator(7))
            b = parts.sample(g, 2, cfg.data.frames, make_generator(7))
            assert a.shape == (2, 3, cfg.data.frames, cfg.data.size, cfg.data.size)
        else:
            assert parts.preview is not None
            a = parts.preview(parts.modules, batch)
            b = parts.preview(parts.modules, batch)
            assert a.ndim == 5 and a.shape[0] == 2 and a.shape[1] == 3
    assert torch.equal(a, b)
    assert a.min() >= -1.0001 and a.max() <= 1.0001


@pytest.mark.parametrize("name", FAMILIES)
def test_state_dict_round_trip_and_same_seed_same_init(name):
    cfg, parts, _ = _setup(name)
    again = build_parts(cfg)
    for role, m in parts.modules.items():
        sd = m.state_dict()
        for k, v in sd.items():
            assert torch.equal(v, again.modules[role].state_dict()[k]), f"{role}.{k}: same seed, different init"
        clone = copy.deepcopy(again.modules[role])
        for p in clone.parameters():
            p.data.add_(1.0)
        clone.load_state_dict(sd)
        assert all(torch.equal(v, clone.state_dict()[k]) for k, v in sd.items())
        assert count_parameters(m) > 0
