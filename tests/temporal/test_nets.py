"""The networks load the official state dicts key for key and reproduce every stored forward."""

from __future__ import annotations

import pytest
import torch

from vidgan.temporal.nets import (
    DCGANDiscriminator,
    DCGANEncoder,
    DCGANGenerator,
    PatchDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    define_discriminator,
    define_generator,
)

ATOL = 1e-5  # README: single forwards


def _fwd(golden, file, net, module, features=False):
    module.load_state_dict(golden.state(file, net), strict=True)
    x = golden.t(file, f"fwd/{net}/input")
    with torch.no_grad():
        if features:
            y, feats = module(x, features=True)
            for i, f in enumerate(feats):
                torch.testing.assert_close(f, golden.t(file, f"fwd/{net}/features_{i}"), atol=ATOL, rtol=0)
            assert len(feats) == 4
        else:
            y = module(x)
    torch.testing.assert_close(y, golden.t(file, f"fwd/{net}/output"), atol=ATOL, rtol=0)


def _keys(golden, section, net):
    keys = golden.config[section]
    keys = keys["checkpoint_keys"][net] if "checkpoint_keys" in keys else keys[net]["keys"]
    return [(k, tuple(s)) for k, s in keys]


def test_model_p_networks(golden):
    _fwd(golden, "model_p.npz", "generator", ResnetGenerator(6, 3, 8, 9))
    _fwd(golden, "model_p.npz", "timecycle_target_motion_model_forward", ResnetGenerator(6, 3, 8, 1))
    # store_layers checkpoints (model0.0.* aliases + model.*) load strictly; features = blocks 0-3
    _fwd(golden, "model_p.npz", "discriminator", PatchDiscriminator(6, 8), features=True)
    _fwd(golden, "model_p.npz", "discriminator_seq", PatchDiscriminator(15, 8), features=True)


def test_model_u_networks(golden):
    _fwd(golden, "model_u.npz", "generator", DCGANGenerator(3, 8))
    _fwd(golden, "model_u.npz", "encoder", DCGANEncoder(3, 8))
    _fwd(golden, "model_u.npz", "discriminator", DCGANDiscriminator(3, 8))
    _fwd(golden, "model_u.npz", "discriminator_seq", DCGANDiscriminator(15, 8))
    _fwd(golden, "model_u.npz", "timecycle_target_motion_model_forward", ResnetGenerator(6, 3, 8, 1))


def test_unet_and_plain_patchgan(golden):
    _fwd(golden, "nets_extra.npz", "unet_256", UnetGenerator(6, 3, 8, 4))
    _fwd(golden, "nets_extra.npz", "patchgan_basic", PatchDiscriminator(6, 8))


@pytest.mark.parametrize(
    "section,net,build",
    [
        ("model_p", "generator", lambda: define_generator("resnet_9blocks", 6, 3, 8)),
        ("model_p", "timecycle_target_motion_model_backward", lambda: define_generator("resnet_1blocks", 6, 3, 8)),
        ("model_u", "encoder", lambda: DCGANEncoder(3, 8)),
        ("model_u", "generator", lambda: DCGANGenerator(3, 8)),
        ("model_u", "discriminator", lambda: define_discriminator("dcgan", 3, 8)),
        ("nets_extra", "unet_128", lambda: define_generator("unet_128", 6, 3, 4)),
        ("nets_extra", "unet_256", lambda: define_generator("unet_256", 6, 3, 4)),
        ("nets_extra", "patchgan_basic", lambda: define_discriminator("basic", 6, 8)),
    ],
)
def test_key_lists_match_official(golden, section, net, build):
    own = [(k, tuple(v.shape)) for k, v in build().state_dict().items()]
    assert own == _keys(golden, section, net)


def test_store_layers_key_set_and_alias_check(golden):
    official = _keys(golden, "nets_extra", "patchgan_basic_store_layers")
    d = PatchDiscriminator(6, 8)
    aliases = d.official_aliases()
    own = dict((k, tuple(v.shape)) for k, v in d.state_dict().items())
    # every official key is either a model.* key or an alias of one with the same shape
    for k, shape in official:
        assert own.get(aliases.get(k, k)) == shape, k
    state = golden.state("model_p.npz", "discriminator")
    assert any(k.startswith("model0.") for k in state)
    d.load_state_dict(state, strict=True)
    assert not any(k.startswith("model0.") for k in d.state_dict())  # saved clean
    bad = dict(state)
    bad["model0.0.weight"] = bad["model0.0.weight"] + 1
    with pytest.raises(RuntimeError, match="differs"):
        PatchDiscriminator(6, 8).load_state_dict(bad, strict=True)


def test_non_square_and_size_checks():
    g = ResnetGenerator(3, 3, 4, 1)
    assert g(torch.zeros(1, 3, 16, 24)).shape == (1, 3, 16, 24)
    with pytest.raises(ValueError, match="divisible by 4"):
        g(torch.zeros(1, 3, 18, 24))
    with pytest.raises(ValueError, match="multiples of 256"):
        UnetGenerator(3, 3, 8, 2)(torch.zeros(1, 3, 128, 128))
