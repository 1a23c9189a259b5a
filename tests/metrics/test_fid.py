"""Inception (FID) loader with seeded random weights in the pytorch-fid key layout; FID plumbing."""

import numpy as np
import pytest
import torch

from vidgan.metrics.detectors.inception import InceptionFID, load_inception_fid, preprocess_fid
from vidgan.metrics.fid import fid_videos

# Names as in pytorch-fid's pt_inception-2015-12-05-6726825d.pth (torchvision InceptionV3 attributes).
OFFICIAL_KEYS = [
    "Conv2d_1a_3x3.conv.weight",
    "Conv2d_4a_3x3.bn.running_var",
    "Mixed_5b.branch5x5_2.conv.weight",
    "Mixed_6a.branch3x3dbl_3.bn.bias",
    "Mixed_6e.branch7x7dbl_5.conv.weight",
    "Mixed_7a.branch7x7x3_4.bn.running_mean",
    "Mixed_7c.branch3x3dbl_3b.bn.weight",
    "fc.weight",
    "fc.bias",
]


@pytest.fixture(scope="module")
def random_weights_file(tmp_path_factory):
    torch.manual_seed(123)
    m = InceptionFID()
    sd = {}
    for k, v in m.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        t = torch.randn_like(v.float()) * 0.05
        if k.endswith(("running_var", "bn.weight")):
            t = t.abs() + 1.0  # keep activations O(1): tiny ones become denormals and crawl on CPU
        sd[k] = t
    p = tmp_path_factory.mktemp("inc") / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(sd, p)
    return p, sd


def test_loader_consumes_every_key_and_outputs_2048(random_weights_file):
    p, sd = random_weights_file
    assert all(k in sd for k in OFFICIAL_KEYS) and sd["fc.weight"].shape == (1008, 2048)
    assert len(sd) == 94 * 5 + 2  # 94 BasicConv2d (conv.weight + 4 BN tensors) + fc
    m = load_inception_fid(p)
    loaded = m.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in sd.items())
    x = preprocess_fid(torch.randint(0, 256, (2, 3, 40, 56), dtype=torch.uint8))
    assert x.shape == (2, 3, 299, 299) and x.min() >= -1 and x.max() < 1
    with torch.inference_mode():  # 107² instead of 299² keeps the CPU test fast; pool3 is global
        assert m(x[:, :, :107, :107]).shape == (2, 2048) and m.logits(x[:1, :, :107, :107]).shape == (1, 1008)


def test_loader_rejects_other_layout(tmp_path, random_weights_file):
    _, sd = random_weights_file
    bad = dict(sd)
    bad["Mixed_7c.branch_pool.conv.weightX"] = bad.pop("Mixed_7c.branch_pool.conv.weight")
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="pytorch-fid Inception layout"):
        load_inception_fid(tmp_path / "bad.pth")


def test_fid_plumbing_small(random_weights_file):
    # tiny stand-in network keeps this fast: FID must be 0 for identical frame sets and > 0 otherwise
    class Tiny(torch.nn.Module):
        def forward(self, x):
            return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)

    rng = np.random.default_rng(0)
    a = [rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8) for _ in range(4)]
    b = [np.clip(v.astype(int) + 60, 0, 255).astype(np.uint8) for v in a]
    r0 = fid_videos(a, a, model=Tiny(), batch_size=5)
    r1 = fid_videos(a, b, model=Tiny(), num_fake_frames=10)
    assert abs(r0.value) < 1e-9 and r0.protocol["n_real"] == 12 and r0.metric == "fid_12"
    assert r1.value > 0.01 and r1.protocol["n_fake"] == 10 and r1.metric == "fid_10"
    with pytest.raises(ValueError, match="needs 50 fake frames"):
        fid_videos(a, b, model=Tiny(), num_fake_frames=50)
