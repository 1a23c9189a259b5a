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
