"""TF1-legacy bilinear resize: hand-computed coordinate tables and cross-checks."""

import numpy as np
import torch
import torch.nn.functional as F

from vidgan.nn.resize import resize_tf1_bilinear, tf1_bilinear_coords, tf1_bilinear_matrix


def test_coords_2_to_4_hand_table():
    # scale = 0.5: src = 0, 0.5, 1.0, 1.5 -> last two clamp to index 1 (no half-pixel shift).
    lo, hi, frac = tf1_bilinear_coords(2, 4)
    assert lo.tolist() == [0, 0, 1, 1]
    assert hi.tolist() == [1, 1, 1, 1]
    np.testing.assert_array_equal(frac, np.array([0, 0.5, 0, 0.5], np.float32))
    x = torch.tensor([[[[10.0, 20.0]]]])
    y = resize_tf1_bilinear(x, (1, 4))
    assert y.flatten().tolist() == [10.0, 15.0, 20.0, 20.0]


def test_coords_180_to_224_hand_samples():
    lo, hi, frac = tf1_bilinear_coords(180, 224)
    scale = np.float32(180) / np.float32(224)  # 0.8035714
    for d in (0, 1, 5, 111, 223):
        src = np.float32(d) * scale
        assert lo[d] == int(np.floor(src))
        assert abs(frac[d] - (src - np.floor(src))) < 1e-7
    # d = 223 -> src = 179.196..., lo = 179 and hi clamps at 179 (the TF edge replication).
    assert lo[223] == 179 and hi[223] == 179
    assert abs(frac[1] - 0.8035714) < 1e-6 and lo[1] == 0
    assert lo[5] == 4 and abs(frac[5] - 0.017857) < 1e-5


def test_downscale_4_to_2_takes_even_pixels():
    # src = 0, 2 exactly: TF1 legacy picks pixels 0 and 2 (PyTorch would average pairs).
    x = torch.arange(16.0).view(1, 1, 4, 4)
    y = resize_tf1_bilinear(x, (2, 2))
    assert y.flatten().tolist() == [0.0, 2.0, 8.0, 10.0]


def test_matrix_matches_gather_and_differs_from_torch():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 9, 7, generator=g, dtype=torch.float64) * 255
    y = resize_tf1_bilinear(x, (13, 5))
    ah, aw = tf1_bilinear_matrix(9, 13), tf1_bilinear_matrix(7, 5)
    ref = np.einsum("oh,nchw,pw->ncop", ah, x.numpy(), aw)
    np.testing.assert_allclose(y.numpy(), ref, rtol=0, atol=1e-9)
    assert np.allclose(ah.sum(1), 1.0)
    pt = F.interpolate(x, size=(13, 5), mode="bilinear", align_corners=False)
    assert (pt - y).abs().max() > 1.0  # a different convention, as metrics.md §1.4 warns


def test_uint8_and_identity():
    x = torch.randint(0, 256, (1, 3, 6, 6), dtype=torch.uint8)
    y = resize_tf1_bilinear(x, (6, 6))
    assert y.dtype == torch.float32 and torch.equal(y, x.float())


def test_vid4_calendar_tf1_vs_torch_regression(shared_dir):
    """metrics.md §1.4 [measured]: 180x144 -> 224² on the 41 Vid4 calendar frames differs from PyTorch
    bilinear by mean 3.16 / max 40.3 (0..255)."""
    from PIL import Image

    files = sorted((shared_dir / "data" / "vid4_calendar_lr").glob("*.png"))
    assert len(files) == 41
    x = torch.from_numpy(np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files]))
    x = x.permute(0, 3, 1, 2).float()
    tf = resize_tf1_bilinear(x, (224, 224))
    pt = F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
    d = (tf - pt).abs()
    assert abs(d.mean().item() - 3.16) < 0.005 and abs(d.max().item() - 40.3) < 0.05
    assert abs(tf.mean().item() - 139.6002) < 1e-3  # regression value of this implementation
