"""``convert.import_weights``: an official-like ``network-snapshot-*.pkl`` (NVIDIA persistent classes whose
pickles embed source code, torch.nn modules, dnnlib dicts, numpy arrays), written by this test with fake
persistent classes, converts key for key without executing the embedded code; malicious pickles are refused
and create nothing."""

from __future__ import annotations

import os
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from vidgan.families.styleganv import PRESETS, Config, build
from vidgan.families.styleganv.convert import config_from_states, import_weights, read_network_pickle, stub_state_dict
from vidgan.io.safe_pickle import UnsafePickleError

TINY = PRESETS["tiny"]


class FakePersistent:
    """Pickles like an NVIDIA ``@persistent_class`` object: ``_reconstruct_persistent_obj(meta)``."""

    def __init__(self, class_name: str, state: dict, module_src: str) -> None:
        self.meta = dict(type="class", version=6, module_src=module_src, class_name=class_name, state=state)

    def __reduce__(self):
        return (sys.modules["torch_utils.persistence"]._reconstruct_persistent_obj, (self.meta,))


class EasyDict(dict):
    pass


def _fake_reconstruct(meta):  # pragma: no cover - never called by the restricted loader
    raise AssertionError("the real reconstructor must not run")


@pytest.fixture
def fake_modules(monkeypatch):
    tu = types.ModuleType("torch_utils")
    pers = types.ModuleType("torch_utils.persistence")
    _fake_reconstruct.__module__ = "torch_utils.persistence"
    _fake_reconstruct.__qualname__ = "_reconstruct_persistent_obj"
    pers._reconstruct_persistent_obj = _fake_reconstruct
    dn = types.ModuleType("dnnlib")
    dnu = types.ModuleType("dnnlib.util")
    EasyDict.__module__ = "dnnlib.util"
    dnu.EasyDict = EasyDict
    for name, mod in {"torch_utils": tu, "torch_utils.persistence": pers, "dnnlib": dn, "dnnlib.util": dnu}.items():
        monkeypatch.setitem(sys.modules, name, mod)


def _fake(module: nn.Module, payload: str):
    """An official-like pickled module tree: persistent objects with embedded source (payload)."""
    if isinstance(module, nn.Embedding):
        return module  # plain torch.nn classes are pickled by reference in the official snapshots
    state = {
        k: v for k, v in module.__dict__.items() if isinstance(v, int | float | str | bool) and not k.startswith("__")
    }
    state["_parameters"] = OrderedDict(module._parameters)
    state["_buffers"] = OrderedDict(module._buffers)
    state["_non_persistent_buffers_set"] = set()
    state["_modules"] = OrderedDict((k, _fake(c, payload)) for k, c in module._modules.items())
    state["init_kwargs"] = EasyDict(z_dim=1, note="kwargs")
    return FakePersistent(f"training.networks.{type(module).__name__}", state, payload)


@pytest.fixture
def snapshot(tmp_path, fake_modules, data_spec):
    torch.manual_seed(0)
    cfg = Config(**TINY["family"])
    parts = build(cfg, data_spec())
    g, d = parts.modules["generator"], parts.modules["discriminator"]
    g_ema = build(cfg, data_spec()).modules["generator"]
    marker = tmp_path / "pwned"
    payload = f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
    snap = {
        "G": _fake(g, payload),
        "D": _fake(d, payload),
        "G_ema": _fake(g_ema, payload),
        "augment_pipe": None,
        "training_set_kwargs": EasyDict(path="data/ffs.zip", resolution=32),
        "vis": {"z": np.arange(6, dtype=np.float32).reshape(2, 3)},
        "stats": {"cur_nimg": 1000},
    }
    path = tmp_path / "network-snapshot-000001.pkl"
    path.write_bytes(pickle.dumps(snap, protocol=4))
    return path, g, d, g_ema, marker


def test_snapshot_round_trips_key_for_key(snapshot, tmp_path):
    path, g, d, g_ema, marker = snapshot
    out = import_weights(path, tmp_path / "out")
    assert out == tmp_path / "out" / "network-snapshot-000001.pt" and out.is_file()
    assert not marker.exists()  # the embedded module source was never executed
    ckpt = torch.load(out, map_location="cpu", weights_only=True)
    for role, mod in (("generator", g), ("discriminator", d)):
        mine = ckpt["modules"][role]
        assert list(mine) == list(mod.state_dict())
        for k, v in mod.state_dict().items():
            assert torch.equal(mine[k], v), k
    for k, v in g_ema.state_dict().items():
        assert torch.equal(ckpt["ema"][k], v), k
    fam = ckpt["config"]["family"]
    for key, val in TINY["family"].items():
        if key not in ("lstm_hidden", "video_d_ch"):  # MoCoGAN-only settings
            assert fam[key] == val, key
    assert ckpt["config"]["data"]["size"] == TINY["data"]["size"] and ckpt["config"]["data"]["frames"] == 3
    assert ckpt["source"]["file"] == path.name and len(ckpt["source"]["sha256"]) == 64


def test_stub_tree_exposes_the_extra_objects(snapshot):
    path, g, d, *_ = snapshot
    snap = read_network_pickle(path)
    assert snap["G"].class_name == "persistent.training.networks.Generator"
    assert snap["training_set_kwargs"].class_name == "dnnlib.util.EasyDict"
    assert snap["training_set_kwargs"]._stub_items == {"path": "data/ffs.zip", "resolution": 32}
    assert np.array_equal(snap["vis"]["z"], np.arange(6, dtype=np.float32).reshape(2, 3))
    sd = stub_state_dict(snap["D"])
    assert list(sd) == list(d.state_dict())
    cfg, res, frames = config_from_states(stub_state_dict(snap["G"]), sd)
    assert (res, frames) == (TINY["data"]["size"], 3)


class Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


class EvilOpen:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("kind", [Evil, EvilOpen])
def test_malicious_snapshot_is_refused_and_creates_nothing(tmp_path, kind):
    target = tmp_path / "created_by_payload"
    path = tmp_path / "network-snapshot-000002.pkl"
    path.write_bytes(pickle.dumps({"G": kind(target), "D": None}))
    with pytest.raises(UnsafePickleError, match="refused global"):
        import_weights(path, tmp_path / "out.pt")
    assert not target.exists() and not (tmp_path / "out.pt").exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_not_a_snapshot(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2]}))
    with pytest.raises(ValueError, match="not a StyleGAN-V network snapshot"):
        import_weights(path, tmp_path / "o.pt")
