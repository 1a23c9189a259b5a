"""Reproduce ``shared/golden/tecogan`` (the PyTorch port @ 903b070) after a key-for-key import.

Tolerances: ``tolerances.json`` "recommended" (HR 1e-5, LR flow 5e-5, HR flow 2e-4, D logits 5e-5,
D features 1e-4, losses rtol 1e-5).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vidgan.families.tecogan.convert import import_weights
from vidgan.families.tecogan.discriminator import assemble_triplets, merge_flows
from vidgan.nn.space_to_depth import space_to_depth


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def test_import_is_key_for_key(shared_dir, imported, port_files):
    keys = json.loads((shared_dir / "golden/tecogan/state_keys.json").read_text())
    for name, ref in (("nb10", "frnet_nb10"), ("nb16", "frnet_nb16")):
        ck = torch.load(imported[name], weights_only=True)
        assert list(ck["modules"]["generator"]) == [k for k, _, _ in keys[ref]]
        assert ck["config"]["family"]["num_blocks"] == (10 if name == "nb10" else 16)
        src = torch.load(port_files[name], weights_only=True)
        for k, v in src.items():
            assert torch.equal(ck["modules"]["generator"][k], v), k
    d = torch.load(imported["nb10"], weights_only=True)["modules"]["discriminator"]
    assert list(d) == [k for k, _, _ in keys["stnet"]]
    folder = import_weights(port_files["nb10"], imported["nb10"].parent / "cache" / "tecogan")
    assert folder.name == port_files["nb10"].stem + ".pt" and folder.is_file()
    bi = torch.load(imported["nb10_bi"], weights_only=True)
    assert len(bi["modules"]["generator"]) == 76 and bi["config"]["family"]["degradation"] == "bi"


def test_space_to_depth(golden):
    d = golden("space_to_depth_io.npz")
    assert torch.equal(space_to_depth(t(d["x"]), 4), t(d["y_scale4"]))
    assert torch.equal(space_to_depth(t(d["x"]), 2), t(d["y_scale2"]))
    assert not torch.equal(torch.nn.functional.pixel_unshuffle(t(d["x"]), 4), t(d["y_scale4"]))


def test_fnet(golden, nets):
    gen = nets["nb10"][0]
    d = golden("fnet_io.npz")
    x1 = t(d["x1_curr_u8"]).permute(2, 0, 1)[None].float() / 255
    assert torch.equal(x1, t(d["x1_curr"]))
    fnet = gen.fnet
    with torch.no_grad():
        acts = {}
        out = fnet.encoder1(torch.cat([t(d["x1_curr"]), t(d["x2_prev"])], 1))
        acts["act_encoder1"] = out
        acts["act_encoder2"] = out = fnet.encoder2(out)
        acts["act_encoder3"] = out = fnet.encoder3(out)
        acts["act_decoder1"] = out = fnet.decoder1(out)
        acts["act_decoder2"] = out = fnet.decoder2(fnet._up2(out))
        acts["act_decoder3"] = out = fnet.decoder3(fnet._up2(out))
        acts["pre_tanh"] = fnet.flow(fnet._up2(out))
        for k, v in acts.items():
            np.testing.assert_allclose(v.numpy(), d[k], atol=1e-5, err_msg=k)
        np.testing.assert_allclose(fnet(t(d["x1_curr"]), t(d["x2_prev"])).numpy(), d["flow"], atol=5e-5)
        odd = fnet(t(d["odd_x1_curr"]), t(d["odd_x2_prev"]))
    assert odd.shape == (1, 2, 24, 40)
    np.testing.assert_allclose(odd.numpy(), d["odd_flow"], atol=5e-5)


@pytest.mark.parametrize(
    "name,fixture",
    [
        ("nb10", "recurrent_train_forward_nb10.npz"),
        ("nb16", "recurrent_train_forward_nb16.npz"),
        ("nb10_bi", "recurrent_train_forward_nb10_bi.npz"),
    ],
)
def test_recurrent_train_forward(golden, nets, name, fixture):
    gen = nets[name][0]
    d = golden(fixture)
    with torch.no_grad():
        out = gen.forward_sequence(t(d["lr"]).transpose(1, 2))  # (N,T,C,H,W) -> (B,C,T,H,W)
    np.testing.assert_allclose(out["hr"].transpose(1, 2).numpy(), d["hr"], atol=1e-5)
    np.testing.assert_allclose(out["lr_flow"].transpose(1, 2)[0].numpy(), d["lr_flow"], atol=5e-5)
    if "hr_flow" in d:
        np.testing.assert_allclose(out["hr_flow"].transpose(1, 2).numpy(), d["hr_flow"], atol=2e-4)
        np.testing.assert_allclose(out["hr_prev_warp"].transpose(1, 2).numpy(), d["hr_prev_warp"], atol=1e-5)
        # frame 0 = SRNet(lr0, zeros), FNet not involved
        lr0 = t(d["lr"])[:, 0]
        with torch.no_grad():
            first = gen.srnet(lr0, torch.zeros(1, 48, *lr0.shape[-2:]))
        assert torch.equal(first, out["hr"][:, :, 0])


def test_recurrent_infer(golden, nets):
    gen = nets["nb10"][0]
    d = golden("recurrent_infer_nb10.npz")
    lr = t(d["lr"]).transpose(0, 1)[None]  # (1, C, T, h, w), 20x28: not a multiple of 8
    assert [5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5] == d["padded_order"].tolist()
    out = gen.infer_sequence(lr)[0].transpose(0, 1)
    np.testing.assert_allclose(out.numpy(), d["hr_float_kept"], atol=1e-5)
    u8 = (out * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    diff = np.abs(u8.astype(int) - d["hr_u8"].astype(int))
    assert diff.max() <= 1 and (diff > 0).sum() <= 8


def _d_inputs(d):
    pp = d.get("pp_index", np.arange(3))
    real = t(d["real_base_u8"][pp]).float().div(255).permute(3, 0, 1, 2)[None]
    fake = t(d["fake_u8"]).float().div(255).permute(3, 0, 1, 2)[None]
    lr = t(d["lr_base"][pp]).transpose(0, 1)[None]
    return real, fake, lr


def _check_d(disc, d, inputs, flows):
    py, px = d["probe_yx"][:, 0], d["probe_yx"][:, 1]
    disc.train()
    with torch.no_grad():
        for name, x, lr in inputs:
            inp = assemble_triplets(x, lr, flows, disc.upsample_func)
            np.testing.assert_allclose(
                inp.double().sum((2, 3)).numpy(), d[f"{name}_input_chansum"], rtol=1e-5, atol=2e-3
            )
            np.testing.assert_allclose(inp[:, :, py, px].numpy(), d[f"{name}_input_probe"], atol=1e-5)
            logit, feats = disc(inp)
            np.testing.assert_allclose(logit.numpy(), d[f"{name}_logit"], atol=5e-5)
            np.testing.assert_allclose(feats[3].numpy(), d[f"{name}_feat4"], atol=1e-4)
            for i in range(4):
                np.testing.assert_allclose(
                    feats[i].double().mean((2, 3)).numpy(), d[f"{name}_feat{i + 1}_chanmean"], atol=1e-5
                )


def test_discriminator_pingpong(golden, nets, imported, load_modules):
    gen, disc, _ = nets["nb10"]
    d = dict(golden("stnet_io_pingpong.npz"))
    real, fake, lr = _d_inputs(d)
    flows = merge_flows(t(d["hr_flow"]).transpose(1, 2), 7)
    _check_d(disc, d, [("real", real, lr), ("fake", fake, lr)], flows)
    fresh = load_modules(imported["nb10"])[1].eval()  # BN with the running stats of the state file
    with torch.no_grad():
        logit, _ = fresh(assemble_triplets(real, lr, flows, fresh.upsample_func))
    np.testing.assert_allclose(logit.numpy(), d["real_logit_eval_mode"], atol=5e-5)


def test_discriminator_no_pingpong(golden, nets):
    from vidgan.families.tecogan.loss import d_flows

    gen, disc, _ = nets["nb10"]
    d = dict(golden("stnet_io_pingpong.npz"))
    d3 = dict(golden("stnet_io_nopingpong.npz"))
    real, fake, lr = _d_inputs(d)
    real, fake, lr = real[:, :, :3], fake[:, :, :3], lr[:, :, :3]
    with torch.no_grad():
        np.testing.assert_allclose(gen.flow(lr[:, :, 2], lr[:, :, 1]).numpy(), d3["fw_lr_flow"], atol=5e-5)
    flows = d_flows(gen, lr, t(d["hr_flow"][:, 0:2]).transpose(1, 2), pingpong=False)
    np.testing.assert_allclose(flows[0, 0].numpy(), d3["hr_flow_merge"], atol=2e-4)
    d3.update(real_base_u8=d["real_base_u8"], fake_u8=d["fake_u8"][:3], lr_base=d["lr_base"])
    _check_d(disc, d3, [("real", real, lr), ("fake", fake, lr)], flows)
