"""Metric names encode their protocol: resolve() parses them exactly; unknown names teach."""

import pytest

from vidgan.metrics import list_metrics, resolve
from vidgan.metrics.result import MetricResult


@pytest.mark.parametrize(
    "name,params",
    [
        ("fvd", {"variant": "tf"}),
        ("fvd_2048_16f", {"variant": "tf", "num": 2048, "frames": 16, "stride": 1}),
        ("fvd_styleganv_2048_128f", {"variant": "styleganv", "num": 2048, "frames": 128, "stride": 1}),
        ("fvd_styleganv_2048_128f_sub8", {"variant": "styleganv", "num": 2048, "frames": 16, "stride": 8}),
        ("fvd2048_16f", {"variant": "styleganv", "num": 2048, "frames": 16, "stride": 1}),
        ("fvd2048_128f_subsample8f", {"variant": "styleganv", "num": 2048, "frames": 16, "stride": 8}),
        ("fvd_videogpt_256_16f", {"variant": "videogpt", "num": 256, "frames": 16, "stride": 1}),
        ("fid", {"num_frames": None}),
        ("fid50k", {"num_frames": 50000}),
        ("fid50k_full", {"num_frames": 50000}),
        ("fid_2048", {"num_frames": 2048}),
        ("is_c3d_ucf101_tganv2", {"protocol": "tganv2"}),
        ("psnr_y_teco", {"metrics": ["psnr_y_teco"]}),
    ],
)
def test_resolve(name, params):
    spec = resolve(name)
    assert spec.params == params
    assert spec.kind == ("paired" if name.startswith("psnr") else "distribution")


def test_vsr_suite_and_unknown():
    assert resolve("vsr_teco").params["metrics"] == [
        "psnr_y_teco",
        "ssim_y_teco",
        "lpips_teco",
        "tof_teco",
        "tlp_teco",
    ]
    with pytest.raises(KeyError, match="unknown metric 'psnr'"):
        resolve("psnr")  # never a bare PSNR (metrics.md §5)
    with pytest.raises(KeyError, match="not a multiple"):
        resolve("fvd_styleganv_2048_100f_sub8")
    assert "fvd_styleganv_N_Ff_subS" in list_metrics()


def test_result_json_roundtrip():
    import json

    import numpy as np

    r = MetricResult("fvd_8_30f", np.float64(151.39), {"n": np.int64(8), "frames": (1, 2), "x": float("nan")})
    d = json.loads(r.to_json())
    assert d == {"metric": "fvd_8_30f", "value": 151.39, "protocol": {"n": 8, "frames": [1, 2], "x": "nan"}}
    assert "fvd_8_30f = 151.39" in str(r)


def test_c3d_metrics_wired(monkeypatch):
    """is_c3d_ucf101* and fid_c3d_fc7_tganv2 reach metrics-B's C3D code (tiny stand-in network)."""
    import numpy as np
    import torch

    from vidgan.metrics import EvalOptions, evaluate

    c3d = pytest.importorskip("vidgan.metrics.detectors.c3d")
    pytest.importorskip("vidgan.metrics.inception_score")

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 5)

        def forward(self, x, layer="prob"):
            h = self.lin(x.mean((2, 3, 4)))
            return h.softmax(1) if layer == "prob" else h

    monkeypatch.setattr(c3d, "load_c3d_chainer", lambda w, m: Tiny())
    rng = np.random.default_rng(0)
    vids = [rng.integers(0, 256, (16, 8, 8, 3), dtype=np.uint8) for _ in range(12)]
    src = lambda frames: iter(vids)  # noqa: E731
    opts = EvalOptions(num=12, batch_size=5, weights={"c3d_ucf101": "w.npz", "c3d_ucf101_mean": "m.npz"})
    (r,) = evaluate("is_c3d_ucf101", src, src, opts)  # StyleGAN-V protocol: 1 run, 10 splits
    assert r.metric == "is_c3d_ucf101" and 1.0 <= r.value < 5.0
    (f,) = evaluate("fid_c3d_fc7_tganv2", src, src, opts)
    assert f.metric == "fid_c3d_fc7_tganv2" and abs(f.value) < 1e-6 and f.protocol["n_fake"] == 12
