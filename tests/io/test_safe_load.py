"""io.safe_load: every weight/checkpoint loader refuses code and junk in one line naming the file."""

import os
import pickle

import numpy as np
import pytest
import torch

from vidgan.cli.main import main
from vidgan.io.safe_load import WeightsFileError, detect_format, load_tensors, load_torch


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):  # unpickling this would create a file
        return (open, (self.target, "w"))


@pytest.fixture
def files(tmp_path):
    out = {}
    out["empty"] = tmp_path / "empty.pt"
    out["empty"].write_bytes(b"")
    out["junk"] = tmp_path / "junk.pt"
    out["junk"].write_bytes(os.urandom(256))
    out["evil"] = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(2), "x": _Payload(str(tmp_path / "pwned"))}, out["evil"])
    out["evil_pickle"] = tmp_path / "evil.pkl"
    out["evil_pickle"].write_bytes(pickle.dumps(_Payload(str(tmp_path / "pwned2"))))
    out["objnpz"] = tmp_path / "obj.npz"
    np.savez(out["objnpz"], a=np.array([{"k": 1}], dtype=object))
    out["good_pt"] = tmp_path / "good.pt"
    torch.save({"w": torch.arange(3.0)}, out["good_pt"])
    out["good_npz"] = tmp_path / "good.npz"
    np.savez(out["good_npz"], w=np.arange(3.0))
    from safetensors.torch import save_file

    out["good_st"] = tmp_path / "good.safetensors"
    save_file({"w": torch.arange(3.0)}, str(out["good_st"]))
    return out


def test_formats_detected_by_content(files):
    assert detect_format(files["good_pt"]) == "torch-zip"
    assert detect_format(files["good_npz"]) == "npz"
    assert detect_format(files["good_st"]) == "safetensors"
    assert detect_format(files["junk"]) in ("unknown", "torch-legacy", "safetensors")
    for key in ("good_pt", "good_npz", "good_st"):
        assert np.allclose(np.asarray(load_tensors(files[key])["w"]), [0, 1, 2])


@pytest.mark.parametrize("key", ["empty", "junk", "evil", "evil_pickle", "objnpz"])
def test_bad_files_are_refused_in_one_line_and_run_nothing(files, key, tmp_path):
    with pytest.raises(WeightsFileError) as e:
        load_tensors(files[key])
    msg = str(e.value)
    assert msg.startswith(str(files[key])) and "\n" not in msg and " — " in msg
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    with pytest.raises(WeightsFileError):
        load_torch(files[key])


@pytest.mark.parametrize("key", ["empty", "junk", "evil"])
def test_cli_loaders_report_the_file(files, key, tmp_path, capsys):
    """upscale / generate / eval --lpips-weights given a bad file: one line naming it, exit 1."""
    frames = tmp_path / "lr"
    frames.mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(frames / "0001.png")
    for argv in (
        ["upscale", "--checkpoint", str(files[key]), str(frames), str(tmp_path / "out")],
        ["generate", "--checkpoint", str(files[key]), "--out", str(tmp_path / "g")],
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and str(files[key]) in err and err.count("\n") == 1, err
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "out").exists()
