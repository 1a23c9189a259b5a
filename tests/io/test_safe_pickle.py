"""``vidgan.io.safe_pickle``: tensors, arrays and containers come out of plain pickles and torch files (zip and
legacy); every global outside the allow-list is refused before anything runs; named classes become stubs."""

from __future__ import annotations

import io
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from vidgan.io import safe_pickle as sp


def _payload():
    return {
        "p": torch.nn.Parameter(torch.arange(6.0).reshape(2, 3)),
        "view": torch.arange(10)[2:8:2],
        "half": torch.randn(3).half(),
        "bf16": torch.randn(2, 2).bfloat16(),
        "nested": OrderedDict(a=[1, 2.5, "x", None, True], b=(torch.ones(1, dtype=torch.bool),)),
        "np": np.arange(12, dtype=np.int16).reshape(3, 4),
        "np_f": np.asfortranarray(np.random.default_rng(0).random((3, 2)).astype(np.float32)),
        "np_scalar": np.float32(1.5),
        "set": {1, 2},
        "bytes": b"\x00\x01",
    }


def _check(r, ref):
    assert torch.equal(r["p"], ref["p"].detach()) and torch.equal(r["view"], ref["view"])
    assert torch.equal(r["half"], ref["half"]) and torch.equal(r["bf16"], ref["bf16"])
    assert r["nested"]["a"] == [1, 2.5, "x", None, True] and torch.equal(r["nested"]["b"][0], ref["nested"]["b"][0])
    assert np.array_equal(r["np"], ref["np"]) and r["np"].dtype == np.int16
    assert np.array_equal(r["np_f"], ref["np_f"]) and r["np_scalar"] == np.float32(1.5)
    assert r["set"] == {1, 2} and r["bytes"] == b"\x00\x01"


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_plain_pickles(protocol):
    ref = _payload()
    _check(sp.loads(pickle.dumps(ref, protocol=protocol)), ref)


@pytest.mark.parametrize("zipfmt", [True, False])
def test_torch_files(tmp_path, zipfmt):
    ref = {k: v for k, v in _payload().items() if isinstance(v, torch.Tensor)}
    path = tmp_path / "x.pt"
    torch.save(ref, path, _use_new_zipfile_serialization=zipfmt)
    r = sp.load(path)
    assert r.keys() == ref.keys()
    for k in ref:
        assert torch.equal(r[k], ref[k].detach()) and r[k].dtype == ref[k].dtype, k


def test_shared_storage_views_stay_views():
    base = torch.arange(8.0)
    b = io.BytesIO()
    torch.save({"a": base[:4], "b": base[4:]}, b)
    r = sp.loads(b.getvalue())
    assert torch.equal(r["a"], base[:4]) and torch.equal(r["b"], base[4:])


def test_named_classes_become_inert_stubs():
    lin = torch.nn.Linear(3, 2)
    with pytest.raises(sp.UnsafePickleError, match="torch.nn.modules.linear.Linear"):
        sp.loads(pickle.dumps(lin))
    s = sp.loads(pickle.dumps(lin), stubs=("torch.nn.modules.",))
    assert isinstance(s, sp.Stub) and s.class_name == "torch.nn.modules.linear.Linear"
    assert torch.equal(s.state["_parameters"]["weight"], lin.weight.detach())
    assert set(sp.find_tensors(s)) == {"_parameters.weight", "_parameters.bias"}


class _Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: _Reduce(os.system, (f"touch {p}",)),
        lambda p: _Reduce(open, (str(p), "w")),
        lambda p: _Reduce(eval, (f"open({str(p)!r}, 'w')",)),
        lambda p: _Reduce(exec, (f"open({str(p)!r}, 'w')",)),
        lambda p: _Reduce(getattr, (str, "join")),
        lambda p: _Reduce(__import__, ("os",)),
    ],
)
def test_code_execution_payloads_are_refused(tmp_path, make):
    target = tmp_path / "created"
    data = pickle.dumps({"ok": torch.ones(2), "evil": make(target)})
    with pytest.raises(sp.UnsafePickleError, match="refused global"):
        sp.loads(data)
    assert not target.exists()
    # also when hidden inside a torch zip file
    path = tmp_path / "evil.pt"
    torch.save({"evil": make(target)}, path)
    with pytest.raises(sp.UnsafePickleError, match="refused global"):
        sp.load(path)
    assert not target.exists()


def test_object_arrays_and_bad_encodings_are_refused():
    with pytest.raises(sp.UnsafePickleError):
        sp.loads(pickle.dumps(np.array([{"a": 1}], dtype=object)))
    with pytest.raises(sp.UnsafePickleError):
        sp.loads(pickle.dumps(_Reduce(__import__("_codecs").encode, ("x", "rot13"))))


def test_reducers_replace_named_callables():
    calls = []

    def fake(meta):
        calls.append(meta)
        return "stubbed"

    class P:
        def __reduce__(self):
            return (_marker, ({"type": "class", "class_name": "X", "state": {"w": torch.ones(1)}},))

    data = pickle.dumps([P()])
    with pytest.raises(sp.UnsafePickleError):
        sp.loads(data)
    name = f"{_marker.__module__}.{_marker.__qualname__}"
    assert sp.loads(data, reducers={name: fake}) == ["stubbed"]
    obj = sp.loads(data, reducers={name: sp.persistent_stub})[0]
    assert obj.class_name == "persistent.X" and torch.equal(obj.state["w"], torch.ones(1))


def _marker(meta):  # pragma: no cover - referenced by name only
    raise AssertionError
