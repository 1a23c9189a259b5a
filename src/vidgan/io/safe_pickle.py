"""Restricted unpickling: tensors, arrays and plain containers out of untrusted pickles, without running code.

Python pickles can call any importable function. This reader resolves **every** global through an explicit
allow-list of *vidgan-side* callables (never the named object itself: ``torch._utils._rebuild_tensor_v2`` in the
file maps to a vidgan function that validates its arguments and builds the tensor with ``torch.as_strided``).
Any other global raises :class:`UnsafePickleError` naming it, before anything is constructed, so payloads such as
``os.system`` or ``builtins.open`` via ``__reduce__`` are refused and have no effect.

Supported containers: plain pickles (``pickle.dump``; tensors inside them arrive as nested legacy ``torch.save``
blobs through ``torch.storage._load_from_bytes``, which are parsed by the same restricted reader), torch legacy
files and torch zip files (``data.pkl`` + ``data/<key>`` storages).

Classes the caller names in ``stubs`` (exact ``module.Name`` or a prefix ending in ``.``) are *not imported*:
instances become inert :class:`Stub` objects that record the class name, the constructor arguments, the state
passed to ``__setstate__`` and any dict / list items. ``reducers`` maps further global names to caller-supplied
pure functions (e.g. NVIDIA ``torch_utils.persistence._reconstruct_persistent_obj`` → a stub that keeps the
pickled state and ignores the embedded source code, see :func:`persistent_stub`).
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import pickletools
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "UnsafePickleError",
    "Stub",
    "persistent_stub",
    "load",
    "loads",
    "load_torch_file",
    "find_tensors",
]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_MAX_NUMEL = 1 << 40


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle references a global outside the allow-list (or is malformed); nothing was executed."""


class Stub:
    """Inert stand-in for an instance of a class that was not imported."""

    _stub_class = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> Stub:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_stub_args", args)
        object.__setattr__(obj, "_stub_state", None)
        object.__setattr__(obj, "_stub_items", {})
        object.__setattr__(obj, "_stub_list", [])
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        object.__setattr__(self, "_stub_state", state)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._stub_items[key] = value

    def append(self, value: Any) -> None:
        self._stub_list.append(value)

    def extend(self, values: Iterable[Any]) -> None:
        self._stub_list.extend(values)

    @property
    def class_name(self) -> str:
        return self._stub_class

    @property
    def state(self) -> Any:
        return self._stub_state

    def __repr__(self) -> str:
        return f"Stub({self._stub_class})"


_STUB_TYPES: dict[str, type] = {}


def _stub_type(name: str) -> type:
    if name not in _STUB_TYPES:
        _STUB_TYPES[name] = type("Stub_" + name.replace(".", "_"), (Stub,), {"_stub_class": name})
    return _STUB_TYPES[name]


def persistent_stub(meta: Any) -> Stub:
    """Reducer for NVIDIA ``torch_utils.persistence._reconstruct_persistent_obj(meta)``: a :class:`Stub` named
    after ``meta["class_name"]`` holding ``meta["state"]``; ``meta["module_src"]`` is never executed."""
    if not isinstance(meta, dict) or meta.get("type") != "class" or not isinstance(meta.get("class_name"), str):
        raise UnsafePickleError("persistent object without a {'type': 'class', 'class_name': ...} record")
    obj = _stub_type("persistent." + meta["class_name"])()
    obj.__setstate__(meta.get("state"))
    object.__setattr__(obj, "_stub_args", ())
    return obj


# ----------------------------------------------------------------------------------- safe constructors
class _StorageType:
    def __init__(self, name: str, dtype: torch.dtype) -> None:
        self.name, self.dtype = name, dtype

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
    "UntypedStorage": torch.uint8,
}
_TORCH_DTYPES = {
    n: getattr(torch, n)
    for n in (
        "float32",
        "float64",
        "float16",
        "bfloat16",
        "int64",
        "int32",
        "int16",
        "int8",
        "uint8",
        "bool",
        "float",
        "double",
        "half",
        "long",
        "int",
        "short",
    )
}


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> torch.Tensor:
    if not isinstance(storage, torch.Tensor) or storage.ndim != 1:
        raise UnsafePickleError("tensor rebuild without a storage")
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    offset = int(offset)
    if len(size) != len(stride) or offset < 0 or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise UnsafePickleError(f"invalid tensor geometry size={size} stride={stride} offset={offset}")
    if all(s > 0 for s in size):
        last = offset + sum((s - 1) * st for s, st in zip(size, stride))
        if last >= storage.numel():
            raise UnsafePickleError(f"tensor view exceeds its storage ({last} >= {storage.numel()})")
    return torch.as_strided(storage, size, stride, offset)


def _rebuild_tensor_v3(
    storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any, hooks: Any, dtype: Any, *rest: Any
) -> torch.Tensor:
    if isinstance(dtype, torch.dtype) and isinstance(storage, torch.Tensor) and storage.dtype != dtype:
        storage = storage.view(torch.uint8).view(dtype)
    return _rebuild_tensor(storage, offset, size, stride)


def _rebuild_parameter(data: Any, requires_grad: Any = True, hooks: Any = None, *rest: Any) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise UnsafePickleError("parameter rebuild without a tensor")
    return data


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    if func not in (_rebuild_tensor, _rebuild_tensor_v3, _rebuild_parameter):
        raise UnsafePickleError("tensor subclass rebuild with a non-tensor function")
    return func(*args)


def _safe_encode(obj: Any, encoding: str = "utf-8", *rest: Any) -> bytes:
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise UnsafePickleError("_codecs.encode is only allowed for str -> bytes (latin1 / utf-8)")
    return obj.encode(encoding)


def _safe_reconstructor(cls: Any, base: Any, state: Any = None) -> Any:
    if base is not object:
        raise UnsafePickleError("copyreg._reconstructor with a base other than object")
    if isinstance(cls, type) and issubclass(cls, Stub):
        return cls()
    if cls is collections.OrderedDict or cls is dict:
        return cls()
    raise UnsafePickleError(f"copyreg._reconstructor for a class outside the allow-list: {cls!r}")


def _safe_newobj(cls: Any, *args: Any) -> Any:
    return _safe_reconstructor(cls, object)


class _NdarrayMarker:
    pass


class _NumpyArrayStub:
    def __init__(self) -> None:
        self.value: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5):
            raise UnsafePickleError("numpy array state has an unexpected layout")
        _, shape, dtype, fortran, raw = state
        if isinstance(dtype, _DtypeStub):
            dtype = dtype.dtype
        if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(raw, bytes | bytearray):
            raise UnsafePickleError("numpy arrays of Python objects are refused")
        arr = np.frombuffer(bytes(raw), dtype=dtype)
        self.value = arr.reshape(tuple(shape), order="F" if fortran else "C").copy()


def _np_reconstruct(cls: Any, shape: Any, dtype: Any) -> _NumpyArrayStub:
    if cls is not _NdarrayMarker:
        raise UnsafePickleError("numpy _reconstruct of a class other than ndarray")
    return _NumpyArrayStub()


class _DtypeStub:
    def __init__(self, spec: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(spec, str) or spec.startswith("O") or len(spec) > 8:
            raise UnsafePickleError(f"numpy dtype {spec!r} is not a plain numeric type")
        self.spec = spec
        self.dtype = np.dtype(spec)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            if state[1] in ("<", ">"):
                self.dtype = self.dtype.newbyteorder(state[1])


def _np_scalar(dtype: Any, raw: Any = None) -> Any:
    if isinstance(dtype, _DtypeStub):
        dtype = dtype.dtype
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(raw, bytes):
        raise UnsafePickleError("numpy scalar of a non-numeric type")
    return np.frombuffer(raw, dtype=dtype)[0]


def _np_frombuffer(buf: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
    if isinstance(dtype, _DtypeStub):
        dtype = dtype.dtype
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(buf, bytes | bytearray | memoryview):
        raise UnsafePickleError("numpy _frombuffer of a non-numeric type")
    if order not in ("C", "F"):
        raise UnsafePickleError(f"numpy _frombuffer order {order!r}")
    return np.frombuffer(bytes(buf), dtype=dtype).reshape(tuple(int(s) for s in shape), order=order).copy()


_BASE_ALLOW: dict[str, Any] = {
    "collections.OrderedDict": collections.OrderedDict,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "builtins.bytearray": bytearray,
    "builtins.complex": complex,
    "builtins.slice": slice,
    "builtins.object": object,  # only as the base argument of copyreg._reconstructor
    "builtins.dict": dict,
    "builtins.list": list,
    "builtins.tuple": tuple,
    "builtins.str": str,
    "builtins.int": int,
    "builtins.float": float,
    "builtins.bool": bool,
    "__builtin__.set": set,
    "__builtin__.frozenset": frozenset,
    "__builtin__.bytearray": bytearray,
    "_codecs.encode": _safe_encode,
    "copyreg._reconstructor": _safe_reconstructor,
    "copy_reg._reconstructor": _safe_reconstructor,
    "copyreg.__newobj__": _safe_newobj,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch.Size": tuple,
    "torch.device": str,
    "numpy.ndarray": _NdarrayMarker,
    "numpy.dtype": _DtypeStub,
    "numpy.core.multiarray._reconstruct": _np_reconstruct,
    "numpy._core.multiarray._reconstruct": _np_reconstruct,
    "numpy.core.multiarray.scalar": _np_scalar,
    "numpy.core.numeric._frombuffer": _np_frombuffer,
    "numpy._core.numeric._frombuffer": _np_frombuffer,
    "numpy._core.multiarray.scalar": _np_scalar,
}
for _n, _d in _STORAGE_DTYPES.items():
    _BASE_ALLOW[f"torch.{_n}"] = _StorageType(_n, _d)
for _n, _d in _TORCH_DTYPES.items():
    _BASE_ALLOW[f"torch.{_n}"] = _d


class _Reader:
    """Holds the allow-list for one load (nested legacy blobs reuse it)."""

    def __init__(self, reducers: Mapping[str, Callable[..., Any]] | None, stubs: Iterable[str]) -> None:
        self.allow = dict(_BASE_ALLOW)
        self.allow["torch.storage._load_from_bytes"] = self._load_from_bytes
        for name, fn in (reducers or {}).items():
            if not callable(fn):
                raise TypeError(f"reducer for {name} is not callable")
            self.allow[name] = fn
        self.stubs = tuple(stubs)

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        if full in self.allow:
            return self.allow[full]
        if any(full == s or (s.endswith(".") and full.startswith(s)) for s in self.stubs):
            return _stub_type(full)
        raise UnsafePickleError(
            f"refused global {full!r}: not in the allow-list of vidgan.io.safe_pickle (nothing was executed)"
        )

    def unpickler(self, f: io.BufferedIOBase, persistent_load: Callable[[Any], Any] | None = None) -> pickle.Unpickler:
        reader = self

        class _U(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:  # noqa: D401
                return reader.find_class(module, name)

            def persistent_load(self, pid: Any) -> Any:
                if persistent_load is None:
                    raise UnsafePickleError("unexpected persistent id in a plain pickle")
                return persistent_load(pid)

        return _U(f)

    # ------------------------------------------------------------------ torch containers
    def _load_from_bytes(self, data: Any) -> Any:
        if not isinstance(data, bytes | bytearray):
            raise UnsafePickleError("torch.storage._load_from_bytes without bytes")
        return self.load_torch(io.BytesIO(bytes(data)))

    def load_torch(self, f: io.BufferedIOBase) -> Any:
        start = f.tell()
        head = f.read(4)
        f.seek(start)
        if head == b"PK\x03\x04":
            return self._load_zip(f)
        return self._load_legacy(f)

    def _load_zip(self, f: io.BufferedIOBase) -> Any:
        with zipfile.ZipFile(f) as zf:
            names = zf.namelist()
            pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
            if not pkl:
                raise UnsafePickleError("torch zip file without data.pkl")
            root = pkl[0][: -len("data.pkl")]
            storages: dict[str, torch.Tensor] = {}

            def pload(pid: Any) -> torch.Tensor:
                if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
                    raise UnsafePickleError(f"unexpected persistent id {pid!r}")
                stype, key, numel = pid[1], str(pid[2]), int(pid[4])
                dtype = stype.dtype if isinstance(stype, _StorageType) else None
                if dtype is None:
                    raise UnsafePickleError(f"unknown storage type {stype!r}")
                if key not in storages:
                    entry = f"{root}data/{key}"
                    if entry not in names:
                        raise UnsafePickleError(f"missing storage {entry}")
                    raw = bytearray(zf.read(entry))
                    storages[key] = _storage_from_bytes(raw, dtype, numel if stype.name != "UntypedStorage" else None)
                return storages[key]

            return self.unpickler(io.BytesIO(zf.read(pkl[0])), pload).load()

    def _load_legacy(self, f: io.BufferedIOBase) -> Any:
        start = f.tell()
        if not _starts_with_int(f):
            raise _NotTorch()
        f.seek(start)
        magic = self.unpickler(f).load()
        if magic != _LEGACY_MAGIC:
            raise _NotTorch()
        proto = self.unpickler(f).load()
        if proto != 1001:
            raise UnsafePickleError(f"unsupported torch legacy protocol {proto!r}")
        self.unpickler(f).load()  # sys_info
        obj_start = f.tell()
        for _op, _arg, _pos in pickletools.genops(f):  # skip the object pickle without executing it
            pass
        obj_bytes_end = f.tell()
        keys = self.unpickler(f).load()
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise UnsafePickleError("torch legacy storage key list is malformed")
        f.seek(obj_start)
        obj_bytes = f.read(obj_bytes_end - obj_start)
        f.seek(obj_bytes_end)
        self.unpickler(f).load()  # the key list again (advance)
        # the object's persistent ids name each storage's dtype and numel; collect them first
        meta: dict[str, tuple[torch.dtype, int]] = {}

        def collect(pid: Any) -> None:
            if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
                raise UnsafePickleError(f"unexpected persistent id {pid!r}")
            stype = pid[1]
            if not isinstance(stype, _StorageType):
                raise UnsafePickleError(f"unknown storage type {stype!r}")
            meta[str(pid[2])] = (stype.dtype, int(pid[4]))
            return None

        _scan_persistent_ids(self, obj_bytes, collect)
        storages: dict[str, torch.Tensor] = {}
        for key in keys:
            if key not in meta:
                raise UnsafePickleError(f"storage {key} has no record in the object pickle")
            dtype, _ = meta[key]
            numel = int.from_bytes(f.read(8), "little", signed=True)
            if not 0 <= numel <= _MAX_NUMEL:
                raise UnsafePickleError(f"storage {key}: invalid size {numel}")
            nbytes = numel * torch.empty((), dtype=dtype).element_size()
            raw = bytearray(f.read(nbytes))
            if len(raw) != nbytes:
                raise UnsafePickleError(f"storage {key}: truncated ({len(raw)} of {nbytes} bytes)")
            storages[key] = _storage_from_bytes(raw, dtype, numel)

        def pload(pid: Any) -> torch.Tensor:
            key = str(pid[2])
            base = storages[key]
            view = pid[5] if len(pid) > 5 else None
            if view is not None:  # (view_key, offset, view_size)
                _, off, n = view
                return base[int(off) : int(off) + int(n)]
            return base

        return self.unpickler(io.BytesIO(obj_bytes), pload).load()


class _NotTorch(Exception):
    pass


def _starts_with_int(f: io.BufferedIOBase) -> bool:
    """Whether the first pickle of ``f`` is a bare integer (the torch legacy magic), by tokenising at most a
    few opcodes (nothing is built)."""
    ops = []
    try:
        for op, _arg, _pos in pickletools.genops(f):
            ops.append(op.name)
            if op.name == "STOP" or len(ops) > 4:
                break
    except Exception:
        return False
    body = [o for o in ops if o not in ("PROTO", "FRAME", "STOP")]
    return ops[-1:] == ["STOP"] and len(body) == 1 and body[0] in ("LONG1", "LONG4", "BININT", "INT", "LONG")


def _scan_persistent_ids(reader: _Reader, data: bytes, fn: Callable[[Any], Any]) -> None:
    """Collect the persistent ids of a pickle without building its objects (globals still go through the
    allow-list; reductions are not performed because the pickle is only tokenised)."""
    # Persistent ids in torch files are small tuples built from constants and one GLOBAL (the storage type);
    # run the restricted unpickler on the *whole* pickle but with tensor rebuilds neutralised.
    neutral = _Reader({}, reader.stubs)
    neutral.allow = dict(reader.allow)
    for k in list(neutral.allow):
        if k.startswith("torch._utils._rebuild") or k == "torch._tensor._rebuild_from_type_v2":
            neutral.allow[k] = lambda *a, **kw: None

    def pl(pid: Any) -> None:
        fn(pid)
        return None

    neutral.unpickler(io.BytesIO(data), pl).load()


def _storage_from_bytes(raw: bytearray, dtype: torch.dtype, numel: int | None) -> torch.Tensor:
    if len(raw) == 0:
        return torch.empty(0, dtype=dtype)
    t = torch.frombuffer(raw, dtype=torch.uint8)
    if dtype != torch.uint8:
        t = t.view(dtype)
    if numel is not None and t.numel() != numel:
        raise UnsafePickleError(f"storage holds {t.numel()} elements, header says {numel}")
    return t


def _finalise(obj: Any) -> Any:
    """Replace numpy/dtype helper stubs by real numpy values throughout a loaded object."""
    seen: dict[int, Any] = {}

    def walk(x: Any) -> Any:
        if isinstance(x, _NumpyArrayStub):
            return x.value
        if isinstance(x, _DtypeStub):
            return x.dtype
        if id(x) in seen:
            return seen[id(x)]
        if isinstance(x, dict):
            seen[id(x)] = x
            for k in list(x):
                x[k] = walk(x[k])
            return x
        if isinstance(x, list):
            seen[id(x)] = x
            x[:] = [walk(v) for v in x]
            return x
        if isinstance(x, tuple):
            return tuple(walk(v) for v in x)
        if isinstance(x, Stub):
            seen[id(x)] = x
            object.__setattr__(x, "_stub_state", walk(x._stub_state))
            object.__setattr__(x, "_stub_args", walk(x._stub_args))
            for k in list(x._stub_items):
                x._stub_items[k] = walk(x._stub_items[k])
            x._stub_list[:] = [walk(v) for v in x._stub_list]
            return x
        return x

    return walk(obj)


def loads(
    data: bytes,
    *,
    reducers: Mapping[str, Callable[..., Any]] | None = None,
    stubs: Iterable[str] = (),
) -> Any:
    """Restricted load of ``data``: a plain pickle, a torch legacy file or a torch zip file."""
    reader = _Reader(reducers, stubs)
    f = io.BytesIO(data)
    if data[:4] == b"PK\x03\x04":
        return _finalise(reader.load_torch(f))
    try:
        return _finalise(reader._load_legacy(f))
    except _NotTorch:
        pass
    f.seek(0)
    obj = reader.unpickler(f).load()
    return _finalise(obj)


def load(
    src: str | os.PathLike | bytes,
    *,
    reducers: Mapping[str, Callable[..., Any]] | None = None,
    stubs: Iterable[str] = (),
) -> Any:
    """:func:`loads` of a file (or bytes)."""
    if isinstance(src, bytes | bytearray):
        return loads(bytes(src), reducers=reducers, stubs=stubs)
    return loads(Path(src).read_bytes(), reducers=reducers, stubs=stubs)


def load_torch_file(src: str | os.PathLike, **kw: Any) -> Any:
    """Alias of :func:`load` for ``torch.save`` files (zip or legacy), e.g. a state dict."""
    return load(src, **kw)


def find_tensors(obj: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    """Flatten every tensor reachable through dicts / lists / tuples / stub states into ``{path: tensor}``."""
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()

    def walk(x: Any, path: str) -> None:
        if isinstance(x, torch.Tensor):
            out[path] = x
            return
        if id(x) in seen:
            return
        seen.add(id(x))
        if isinstance(x, Mapping):
            for k, v in x.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(x, list | tuple):
            for i, v in enumerate(x):
                walk(v, f"{path}.{i}" if path else str(i))
        elif isinstance(x, Stub):
            walk(x.state, path)
            walk(x._stub_items, path)

    walk(obj, prefix)
    return out
