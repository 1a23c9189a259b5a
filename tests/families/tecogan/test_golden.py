"""Reproduce ``shared/golden/tecogan`` (the PyTorch port @ 903b070) after a key-for-key import.

Every tolerance comes from ``tolerances.json`` "recommended" (the ``tol`` fixture of conftest.py);
``test_tolerances_come_from_tolerances_json`` keeps it that way.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from vidgan.families.api import count_parameters
from vidgan.families.tecogan import SpatioTemporalDiscriminator
from vidgan.families.tecogan.convert import import_weights
from vidgan.families.tecogan.discriminator import assemble_triplets, merge_flows
from vidgan.families.tecogan.generator import FRNet, reflected_order
from vidgan.nn.space_to_depth import space_to_depth


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _state_keys(shared_dir) -> dict:
    return json.loads((shared_dir / "golden/tecogan/state_keys.json").read_text())


def _num_blocks(key_list) -> int:
    """Residual blocks of a generator configuration, counted from its recorded key list."""
    return len({k.split(".")[2] for k, _, _ in key_list if k.startswith("srnet.resblocks.")})


def test_import_is_key_for_key(shared_dir, imported, port_files):
    keys = _state_keys(shared_dir)
    for name, ref in (("nb10", "frnet_nb10"), ("nb16", "frnet_nb16")):
        ck = torch.load(imported[name], weights_only=True)
        assert list(ck["modules"]["generator"]) == [k for k, _, _ in keys[ref]]
        assert ck["config"]["family"]["num_blocks"] == _num_blocks(keys[ref])
        src = torch.load(port_files[name], weights_only=True)
        for k, v in src.items():
            assert torch.equal(ck["modules"]["generator"][k], v), k
    d = torch.load(imported["nb10"], weights_only=True)["modules"]["discriminator"]
    assert list(d) == [k for k, _, _ in keys["stnet"]]
    folder = import_weights(port_files["nb10"], imported["nb10"].parent / "cache" / "tecogan")
    assert folder.name == port_files["nb10"].stem + ".pt" and folder.is_file()
    bi = torch.load(imported["nb10_bi"], weights_only=True)
    # BI state dicts = the BD ones without the bicubic tap buffers (README §1)
    bi_keys = [k for k, _, _ in keys["frnet_nb10"] if not k.endswith("upsample_func.kernels")]
    assert list(bi["modules"]["generator"]) == bi_keys and bi["config"]["family"]["degradation"] == "bi"


def _built_models(key_list_name: str, key_list) -> dict[str, torch.nn.Module]:
    if key_list_name.startswith("frnet"):
        return {key_list_name: FRNet(num_blocks=_num_blocks(key_list))}
    return {key_list_name: SpatioTemporalDiscriminator()}


@pytest.mark.parametrize("config", ["frnet_nb10", "frnet_nb16", "stnet"])
def test_built_models_match_state_keys(shared_dir, config):
    """vidgan's models built for each configuration of ``state_keys.json``: key names in the port's
    ``state_dict()`` order, shapes and dtypes."""
    keys = _state_keys(shared_dir)[config]
    (model,) = _built_models(config, keys).values()
    sd = model.state_dict()
    assert list(sd) == [k for k, _, _ in keys]
    for k, shape, dtype in keys:
        assert list(sd[k].shape) == list(shape), k
        assert str(sd[k].dtype).removeprefix("torch.") == dtype, k


def test_built_models_match_param_counts(shared_dir):
    """``state_keys.json`` parameter counts (trainable) of every part it lists."""
    info = _state_keys(shared_dir)
    counts = info["param_counts"]
    built = {}
    for name in ("frnet_nb10", "frnet_nb16"):
        g = FRNet(num_blocks=_num_blocks(info[name]))
        nb = name.removeprefix("frnet_")
        built.update({name: g, f"srnet_{nb}": g.srnet, "fnet": g.fnet})
    crop = re.fullmatch(r"stnet_crop(\d+)", next(k for k in counts if k.startswith("stnet_crop"))).group(1)
    built[f"stnet_crop{crop}"] = SpatioTemporalDiscriminator(3, int(crop))
    assert set(counts) <= set(built), set(counts) - set(built)
    for name, n in counts.items():
        assert count_parameters(built[name]) == n, name


def _sha(a: np.ndarray | torch.Tensor) -> str:
    a = a.numpy() if isinstance(a, torch.Tensor) else a
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def test_imported_tensors_match_state_sha256(shared_dir, imported):
    """Every imported tensor is byte-identical to the recorded one (``state_sha256``)."""
    sha = _state_keys(shared_dir)["state_sha256"]
    gen10 = torch.load(imported["nb10"], weights_only=True)["modules"]
    gen16 = torch.load(imported["nb16"], weights_only=True)["modules"]["generator"]
    for k, h in sha["frnet_nb10"].items():
        assert _sha(gen10["generator"][k]) == h, k
    for k, h in sha["frnet_nb16_extra"].items():
        assert _sha(gen16[k]) == h, k
    for k, h in sha["stnet"].items():
        assert _sha(gen10["discriminator"][k]) == h, k


def test_space_to_depth(golden):
    d = golden("space_to_depth_io.npz")
    assert torch.equal(space_to_depth(t(d["x"]), 4), t(d["y_scale4"]))
    assert torch.equal(space_to_depth(t(d["x"]), 2), t(d["y_scale2"]))
    assert not torch.equal(torch.nn.functional.pixel_unshuffle(t(d["x"]), 4), t(d["y_scale4"]))


def test_fnet(golden, nets, tol):
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
            np.testing.assert_allclose(v.numpy(), d[k], atol=tol["fnet_activations_atol"], err_msg=k)
        flow = fnet(t(d["x1_curr"]), t(d["x2_prev"])).numpy()
        np.testing.assert_allclose(flow, d["flow"], atol=tol["lr_flow_px_atol"])
        odd = fnet(t(d["odd_x1_curr"]), t(d["odd_x2_prev"]))
    h, w = d["odd_x1_curr"].shape[-2:]
    assert odd.shape == d["odd_flow"].shape == (1, 2, h // 8 * 8, w // 8 * 8)  # max-pooling floors
    np.testing.assert_allclose(odd.numpy(), d["odd_flow"], atol=tol["lr_flow_px_atol"])


@pytest.mark.parametrize(
    "name,fixture",
    [
        ("nb10", "recurrent_train_forward_nb10.npz"),
        ("nb16", "recurrent_train_forward_nb16.npz"),
        ("nb10_bi", "recurrent_train_forward_nb10_bi.npz"),
    ],
)
def test_recurrent_train_forward(golden, nets, name, fixture, tol):
    gen = nets[name][0]
    d = golden(fixture)
    hr_atol = tol["hr_images_and_warps_float32_atol"]
    with torch.no_grad():
        out = gen.forward_sequence(t(d["lr"]).transpose(1, 2))  # (N,T,C,H,W) -> (B,C,T,H,W)
    np.testing.assert_allclose(out["hr"].transpose(1, 2).numpy(), d["hr"], atol=hr_atol)
    np.testing.assert_allclose(out["lr_flow"].transpose(1, 2)[0].numpy(), d["lr_flow"], atol=tol["lr_flow_px_atol"])
    if "hr_flow" in d:
        np.testing.assert_allclose(out["hr_flow"].transpose(1, 2).numpy(), d["hr_flow"], atol=tol["hr_flow_px_atol"])
        np.testing.assert_allclose(out["hr_prev_warp"].transpose(1, 2).numpy(), d["hr_prev_warp"], atol=hr_atol)
        # frame 0 = SRNet(lr0, zeros), FNet not involved
        lr0 = t(d["lr"])[:, 0]
        with torch.no_grad():
            first = gen.srnet(lr0, torch.zeros(1, 48, *lr0.shape[-2:]))
        assert torch.equal(first, out["hr"][:, :, 0])


def test_recurrent_infer(golden, nets, tol, assert_uint8_close):
    gen = nets["nb10"][0]
    d = golden("recurrent_infer_nb10.npz")
    lr = t(d["lr"]).transpose(0, 1)[None]  # (1, C, T, h, w), 20x28: not a multiple of 8
    assert reflected_order(lr.shape[2]) == d["padded_order"].tolist()
    out = gen.infer_sequence(lr)[0].transpose(0, 1)
    np.testing.assert_allclose(out.numpy(), d["hr_float_kept"], atol=tol["hr_images_and_warps_float32_atol"])
    u8 = (out * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert_uint8_close(u8, d["hr_u8"], d["hr_float_kept"].transpose(0, 2, 3, 1))


def _d_inputs(d):
    pp = d.get("pp_index", np.arange(3))
    real = t(d["real_base_u8"][pp]).float().div(255).permute(3, 0, 1, 2)[None]
    fake = t(d["fake_u8"]).float().div(255).permute(3, 0, 1, 2)[None]
    lr = t(d["lr_base"][pp]).transpose(0, 1)[None]
    return real, fake, lr


def _check_d(disc, d, inputs, flows, tol):
    py, px = d["probe_yx"][:, 0], d["probe_yx"][:, 1]
    feat_atol = tol["discriminator_feat4_atol"]  # README §8: "D features atol 1e-4" (all four maps)
    n_feats = len([k for k in d if re.fullmatch(r"real_feat\d+_sum", k)])
    assert n_feats > 0
    disc.train()
    with torch.no_grad():
        for name, x, lr in inputs:
            inp = assemble_triplets(x, lr, flows, disc.upsample_func)
            np.testing.assert_allclose(
                inp.double().sum((2, 3)).numpy(),
                d[f"{name}_input_chansum"],
                rtol=tol["discriminator_input_chansum_rtol"],
                err_msg=name,
            )
            probe = inp[:, :, py, px].numpy()
            np.testing.assert_allclose(probe, d[f"{name}_input_probe"], atol=tol["discriminator_input_probe_atol"])
            logit, feats = disc(inp)
            np.testing.assert_allclose(logit.numpy(), d[f"{name}_logit"], atol=tol["discriminator_logit_atol"])
            np.testing.assert_allclose(feats[3].numpy(), d[f"{name}_feat4"], atol=feat_atol)
            assert len(feats) == n_feats
            for i, f in enumerate(feats, start=1):
                f = f.double()
                # each element within feat_atol => each mean within feat_atol (the sums over n elements
                # within n * feat_atol, i.e. their means again within feat_atol)
                np.testing.assert_allclose(
                    f.mean((2, 3)).numpy(), d[f"{name}_feat{i}_chanmean"], atol=feat_atol, rtol=0, err_msg=f"{i}"
                )
                ref_sum = d[f"{name}_feat{i}_sum"]
                assert ref_sum.size == 1  # one sum over the whole call (all triplets, channels, pixels)
                np.testing.assert_allclose(
                    f.sum().item() / f.numel(), float(ref_sum[0]) / f.numel(), atol=feat_atol, rtol=0, err_msg=f"{i}"
                )


def test_discriminator_pingpong(golden, nets, tol):
    gen, disc, _ = nets["nb10"]
    d = dict(golden("stnet_io_pingpong.npz"))
    real, fake, lr = _d_inputs(d)
    assert real.shape[2] == len(d["pp_index"]) == fake.shape[2]
    flows = merge_flows(t(d["hr_flow"]).transpose(1, 2), real.shape[2])
    _check_d(disc, d, [("real", real, lr), ("fake", fake, lr)], flows, tol)


@pytest.mark.parametrize("name", ["real", "fake"])
def test_discriminator_eval_mode(golden, imported, load_modules, tol, name):
    """``{real,fake}_logit_eval_mode``: D with BN in eval mode (the state file's running statistics).
    They differ from the training-mode logits the port uses, so this pins the BN mode too."""
    d = dict(golden("stnet_io_pingpong.npz"))
    real, fake, lr = _d_inputs(d)
    flows = merge_flows(t(d["hr_flow"]).transpose(1, 2), real.shape[2])
    fresh = load_modules(imported["nb10"])[1].eval()  # BN with the running stats of the state file
    x = {"real": real, "fake": fake}[name]
    with torch.no_grad():
        logit, _ = fresh(assemble_triplets(x, lr, flows, fresh.upsample_func))
        train_logit, _ = fresh.train()(assemble_triplets(x, lr, flows, fresh.upsample_func))
    atol = tol["discriminator_logit_atol"]
    np.testing.assert_allclose(logit.numpy(), d[f"{name}_logit_eval_mode"], atol=atol)
    # the fixture's eval and training logits are distinguishable at this tolerance, and so are vidgan's
    assert np.abs(d[f"{name}_logit_eval_mode"] - d[f"{name}_logit"]).max() > atol
    np.testing.assert_allclose(train_logit.numpy(), d[f"{name}_logit"], atol=atol)


def test_discriminator_no_pingpong(golden, nets, tol):
    from vidgan.families.tecogan.loss import d_flows

    gen, disc, _ = nets["nb10"]
    d = dict(golden("stnet_io_pingpong.npz"))
    d3 = dict(golden("stnet_io_nopingpong.npz"))
    real, fake, lr = _d_inputs(d)
    real, fake, lr = real[:, :, :3], fake[:, :, :3], lr[:, :, :3]
    with torch.no_grad():
        fw = gen.flow(lr[:, :, 2], lr[:, :, 1]).numpy()
    np.testing.assert_allclose(fw, d3["fw_lr_flow"], atol=tol["lr_flow_px_atol"])
    flows = d_flows(gen, lr, t(d["hr_flow"][:, 0:2]).transpose(1, 2), pingpong=False)
    np.testing.assert_allclose(flows[0, 0].numpy(), d3["hr_flow_merge"], atol=tol["hr_flow_px_atol"])
    d3.update(real_base_u8=d["real_base_u8"], fake_u8=d["fake_u8"][:3], lr_base=d["lr_base"])
    _check_d(disc, d3, [("real", real, lr), ("fake", fake, lr)], flows, tol)


GOLDEN_TEST_FILES = ("test_golden.py", "test_loss.py", "test_stream.py")


def test_tolerances_come_from_tolerances_json(tol):
    """No numeric atol/rtol literal in a TecoGAN golden comparison: each is a ``tol[...]`` entry (or an
    expression of one). Every tol[key] used names an entry of the file."""
    here = Path(__file__).parent
    # a number right after atol=/rtol= (0, i.e. "no such term", is allowed)
    literal = re.compile(r"\b(?:atol|rtol)\s*=\s*[-+]?(?!0\b)(?:\d|\.\d)")
    used = set()
    for name in GOLDEN_TEST_FILES:
        text = (here / name).read_text()
        bad = [ln.strip() for ln in text.splitlines() if literal.search(ln)]
        assert not bad, f"{name}: literal tolerances {bad}"
        used |= set(re.findall(r'tol\["([^"]+)"\]', text))
    used |= set(re.findall(r'tol\["([^"]+)"\]', (here / "conftest.py").read_text()))
    assert used and used <= set(tol), used - set(tol)
