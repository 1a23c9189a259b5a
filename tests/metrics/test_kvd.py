"""KVD: polynomial-kernel unbiased MMD² on the FVD features, its subsets, its names and the shared extraction."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import vidgan.metrics.fvd as fvd_mod
import vidgan.metrics.kvd as kvd_mod
from vidgan.cli.main import main
from vidgan.metrics import EvalOptions, evaluate, list_metrics, resolve
from vidgan.metrics.kvd import kvd_from_features, mmd2_unbiased, polynomial_kernel


def _loop_mmd2(x, y):
    """The definition, one pair at a time: k(a, b) = (a.b / d + 1)^3; i != j within sets, all cross pairs."""
    d = x.shape[1]

    def k(a, b):
        return (sum(float(a[t]) * float(b[t]) for t in range(d)) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_tiny_case_matches_double_loop_and_is_symmetric():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)), rng.normal(0.7, 1.3, size=(5, 3))
    want = _loop_mmd2(x, y)
    assert abs(mmd2_unbiased(x, y) - want) < 1e-12 * max(1.0, abs(want)) and abs(want) > 0.05
    assert abs(mmd2_unbiased(y, x) - want) < 1e-12 * max(1.0, abs(want))
    np.testing.assert_allclose(polynomial_kernel(x, y)[2, 3], (x[2] @ y[3] / 3 + 1) ** 3, rtol=1e-14)
    # equal sizes within subset_size: the whole sets, computed once
    z = rng.normal(size=(4, 3))
    v, info = kvd_from_features(x, z, subsets=100, subset_size=1000)
    assert info == {"subsets": 1, "subset_size": 4, "std": 0.0} and v == mmd2_unbiased(x, z)
    assert kvd_from_features(z, x)[0] == pytest.approx(v, rel=1e-12, abs=1e-15)


def test_subsets_equal_direct_per_subset_computation():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(20, 6)), rng.normal(0.3, 1.0, size=(15, 6))
    v, info = kvd_from_features(x, y, subsets=5, subset_size=7, seed=3)
    draw = np.random.default_rng(3)
    direct = []
    for _ in range(5):
        ix, iy = draw.choice(20, 7, replace=False), draw.choice(15, 7, replace=False)
        direct.append(mmd2_unbiased(x[ix], y[iy]))
    assert info["subsets"] == 5 and info["subset_size"] == 7
    assert abs(v - np.mean(direct)) < 1e-12 and abs(info["std"] - np.std(direct)) < 1e-12
    assert kvd_from_features(x, y, subsets=5, subset_size=7, seed=4)[0] != v  # the seed picks the subsets


def test_same_distribution_near_zero_against_different():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    c = rng.normal(0.4, 1.0, size=(300, 16))
    same, _ = kvd_from_features(a, b, subsets=20, subset_size=150)
    diff, _ = kvd_from_features(a, c, subsets=20, subset_size=150)
    assert diff > 0.05 and abs(same) < 0.05 * diff, (same, diff)
    with pytest.raises(ValueError, match="at least 2 fake"):
        kvd_from_features(a, b[:1])


@pytest.mark.parametrize(
    "name,params",
    [
        ("kvd", {"variant": "tf"}),
        ("kvd_2048_16f", {"variant": "tf", "num": 2048, "frames": 16, "stride": 1}),
        ("kvd_styleganv_2048_128f_sub8", {"variant": "styleganv", "num": 2048, "frames": 16, "stride": 8}),
        ("kvd_videogpt_256_16f", {"variant": "videogpt", "num": 256, "frames": 16, "stride": 1}),
    ],
)
def test_names_resolve_like_fvd(name, params):
    spec = resolve(name)
    assert spec.params == params and spec.kind == "distribution" and spec.run.__name__ == "_run_kvd"
    assert resolve("f" + name[1:]).params == params and resolve("f" + name[1:]).run.__name__ == "_run_fvd"
    assert "kvd_N_Ff" in list_metrics()


class _TinyI3D(torch.nn.Module):
    """Stand-in for I3D: 400 'logits' from the clip's mean colour and its temporal change; counts clips."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = torch.nn.Parameter(torch.randn(6, 400, generator=g), requires_grad=False)
        self.clips = 0

    def forward(self, x):  # (B, 3, T, 224, 224) in [-1, 1]
        self.clips += x.shape[0]
        feats = torch.cat([x.mean((2, 3, 4)), (x[:, :, 1:] - x[:, :, :-1]).abs().mean((2, 3, 4))], 1)
        return feats @ self.w


@pytest.fixture
def tiny_i3d(monkeypatch):
    model = _TinyI3D()
    info = {"weights_file": "tiny", "weights_sha256": "0" * 64}

    def load(weights=None, eps=1e-3, device="cpu"):
        return model, info

    monkeypatch.setattr(fvd_mod, "load_i3d", load)
    monkeypatch.setattr(kvd_mod, "load_i3d", load)
    return model


def _folders(root, n, seed, frames=4, hw=16):
    rng = np.random.default_rng(seed)
    for i in range(n):
        d = root / f"v{i}"
        d.mkdir(parents=True)
        base = rng.integers(0, 256, (hw, hw, 3))
        for t in range(frames):
            img = np.clip(base + rng.integers(-40, 41, (hw, hw, 3)) * t, 0, 255).astype(np.uint8)
            Image.fromarray(img).save(d / f"{t:02d}.png")
    return root


def test_eval_fvd_and_kvd_extract_features_once(tmp_path, tiny_i3d, capsys):
    real, fake = _folders(tmp_path / "real", 5, 0), _folders(tmp_path / "fake", 5, 1)
    argv = ["eval", "fvd", "kvd", "--frames", "2", "--real", str(real), "--fake", str(fake)]
    assert main([*argv, "--json", "--no-progress", "--batch-size", "4"]) == 0
    fvd_r, kvd_r = json.loads(capsys.readouterr().out)["results"]
    assert tiny_i3d.clips == 10  # 5 real + 5 fake clips, once for both metrics
    assert fvd_r["metric"] == "fvd_5_2f" and kvd_r["metric"] == "kvd_5_2f"
    p = kvd_r["protocol"]
    assert p["kernel"].startswith("polynomial") and p["subsets"] == 1 and p["subset_size"] == 5 and p["scale"] == 1
    assert p["n_real"] == 5 and p["n_fake"] == 5 and p["frames"] == 2 and "covariance" not in p
    assert p["resize"] == fvd_r["protocol"]["resize"] == "tf1_legacy_bilinear_direct_224x224"

    # the same values metric by metric with fresh options (no sharing), and KVD from the features themselves
    def src(root):
        from vidgan.cli.eval import video_source

        return video_source(str(root), None, 0, "cpu")

    opts = EvalOptions(frames=2, batch_size=4)
    (alone,) = evaluate("kvd", src(real), src(fake), opts)
    (fvd_alone,) = evaluate("fvd", src(real), src(fake), EvalOptions(frames=2, batch_size=4))
    assert alone.value == kvd_r["value"] and fvd_alone.value == fvd_r["value"]
    feats = [f for _, f in opts.features.values()]  # (statistics, features) of the real, then the fake side
    assert len(feats) == 2 and feats[0].shape == (5, 400)
    assert abs(mmd2_unbiased(*feats) - kvd_r["value"]) < 1e-9 * abs(kvd_r["value"])
