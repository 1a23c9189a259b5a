"""VGG19 cosine feature loss: torchvision key layout from a user file (seeded random weights here)."""

from __future__ import annotations

import pytest
import torch

from vidgan.losses.perceptual import TECOGAN_LAYERS, VGG19Features, cosine_feature_loss


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    torch.manual_seed(0)
    ref = VGG19Features(layers=(35,))
    state = {k: v.clone() for k, v in ref.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision files also hold the classifier
    path = tmp_path_factory.mktemp("vgg") / "vgg19-random.pth"
    torch.save(state, path)
    return path, ref


def test_torchvision_layout_and_layers(vgg_file):
    path, ref = vgg_file
    keys = list(ref.state_dict())
    assert keys[0] == "features.0.weight" and keys[-1] == "features.34.bias" and len(keys) == 32
    vgg = VGG19Features(path)
    assert all(torch.equal(a, b) for a, b in zip(vgg.state_dict().values(), ref.state_dict().values(), strict=True))
    feats = vgg(torch.rand(2, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [128, 256, 512, 512] and TECOGAN_LAYERS == (8, 17, 26, 35)
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2]
    assert all(p.requires_grad is False for p in vgg.parameters())


def test_cosine_loss_identities(vgg_file):
    vgg = VGG19Features(vgg_file[0])
    x = torch.rand(2, 3, 32, 32)
    fx = vgg(x)
    assert cosine_feature_loss(fx, fx).abs() < 1e-5
    # scale invariance of the cosine; a different image gives a positive loss
    fa, fb = [torch.rand(2, 8, 4, 4)], [torch.rand(2, 8, 4, 4)]
    torch.testing.assert_close(cosine_feature_loss(fa, [3 * fb[0]]), cosine_feature_loss(fa, fb))
    assert cosine_feature_loss(fa, [-fa[0]]).item() == pytest.approx(2.0, abs=1e-5)


def test_missing_file_and_checksum_teach(tmp_path, vgg_file):
    with pytest.raises(FileNotFoundError, match="vgg19-dcbb9e9d.pth"):
        VGG19Features(tmp_path / "nope.pth")
    with pytest.raises(ValueError, match="sha256"):
        VGG19Features(vgg_file[0], sha256="0" * 64)
