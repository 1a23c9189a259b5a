"""Flow warp loss with a supplied flow (the FlowNet2 stand-in of the fixtures), masks, sampling quirk."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vidgan.temporal.warp import (
    FarnebackFlow,
    FlowWarpLoss,
    ModuleFlow,
    brightness_confidence,
    flow_warp,
    working_size,
)

from .conftest import close


def _supplied(golden, real):
    flow_hr = torch.from_numpy(golden.npz("warp.npz")["flow_flownet_res"].astype(np.float32))
    seen = []

    def source(a, b):
        seen.append((tuple(a.shape), tuple(b.shape)))
        size = a.shape[-2:]
        # the estimator is called as FN(real[t+1], real[t]) on the bilinearly upscaled frames
        torch.testing.assert_close(a, F.interpolate(real[0, 1:], size=size, mode="bilinear"), atol=0, rtol=0)
        torch.testing.assert_close(b, F.interpolate(real[0, :-1], size=size, mode="bilinear"), atol=0, rtol=0)
        return flow_hr[0]

    return source, seen, flow_hr


def test_official_warp_loss(golden):
    c = golden.clips()
    v = golden.values["warp"]
    z = golden.npz("warp.npz")
    source, seen, flow_hr = _supplied(golden, c["real"])
    loss = FlowWarpLoss(source, min_side=256, multiple_of=64)
    flow, conf = loss.flows(c["real"])
    # one batched call with every pair at FlowNet2's working size, as the official per-pair calls saw them
    assert len(seen) == 1 and seen[0][0][0] == len(v["flownet_input_shapes_seen"])
    assert all(list(seen[0][0][-2:]) == s[-2:] for s in v["flownet_input_shapes_seen"])
    # high-resolution mask: a hard threshold, a handful of pixels may flip
    real_hr = F.interpolate(c["real"][0], size=(256, 256), mode="bilinear")
    conf_hr = brightness_confidence(real_hr[1:], real_hr[:-1], flow_hr[0])
    flips = (conf_hr.to(torch.uint8) != torch.from_numpy(z["conf_flownet_res"][0])).sum()
    assert int(flips) <= 5
    torch.testing.assert_close(
        conf_hr.mean(dim=(1, 2, 3)).double(),
        torch.tensor(v["conf_hr_fraction_ones"], dtype=torch.float64),
        atol=1e-4,
        rtol=0,
    )
    torch.testing.assert_close(flow, golden.t("warp.npz", "flow"), atol=1e-5, rtol=0)
    assert (conf - golden.t("warp.npz", "conf")).abs().gt(1e-4).sum() <= 5 * 4
    close(loss.loss_from_flows(c["fake"], flow, conf), v["loss_G_warp_official"])
    close(
        FlowWarpLoss(source, weight=3.0, min_side=256, multiple_of=64)(c["real"], c["fake"]),
        3 * v["loss_G_warp_official"],
    )
    # warp sampling quirk: official align_corners=False, pixel-exact True as a named option
    prev = c["fake"][0, :-1]
    torch.testing.assert_close(flow_warp(prev, flow[0]), golden.t("warp.npz", "warped_fake")[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(
        flow_warp(prev, flow[0], align_corners=True),
        golden.t("warp.npz", "warped_fake_align_corners_true")[0],
        atol=1e-5,
        rtol=0,
    )
    exact = FlowWarpLoss(source, min_side=256, multiple_of=64, align_corners=True)
    close(exact.loss_from_flows(c["fake"], flow, conf), v["loss_G_warp_align_corners_true_DERIVED"])


def test_gradient_only_into_current_frame():
    loss = FlowWarpLoss(lambda a, b: torch.zeros(a.shape[0], 2, *a.shape[-2:]))
    fake = torch.rand(1, 3, 3, 16, 16, requires_grad=True)
    loss(torch.rand(1, 3, 3, 16, 16), fake).backward()
    assert fake.grad[:, 0].abs().sum() == 0 and fake.grad[:, 1:].abs().sum() > 0


def test_working_size():
    assert working_size(64, 64, 256, 64) == (256, 256)
    assert working_size(300, 500, 256, 64) == (256, 448)  # both sides >= 256: floored to multiples of 64
    assert working_size(64, 96, 0, 1) == (64, 96)


def test_farneback_and_module_sources_recover_a_shift():
    g = torch.Generator().manual_seed(0)
    base = F.avg_pool2d(torch.rand(1, 1, 72, 72, generator=g), 5, 1, 2).repeat(1, 3, 1, 1) * 2 - 1
    b = base[..., 4:68, 4:68]
    a = base[..., 4:68, 6:70]  # a(p) = b(p + (2, 0))
    flow = FarnebackFlow()(a, b)
    assert flow.shape == (1, 2, 64, 64)
    assert abs(float(flow[0, 0, 16:48, 16:48].median()) - 2.0) < 0.5
    assert abs(float(flow[0, 1, 16:48, 16:48].median())) < 0.5
    const = ModuleFlow(lambda p, q: torch.ones(p.shape[0], 2, *p.shape[-2:]), input_range="0,1", flow_scale=2.0)
    assert float(const(a, b).mean()) == 2.0
