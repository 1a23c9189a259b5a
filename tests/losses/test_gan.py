"""Shared GAN terms: the identities that define each formulation, and R1 against an analytic gradient."""

import pytest
import torch
import torch.nn.functional as F

from vidgan.losses.gan import d_loss, g_loss, grad_sqnorm, r1_penalty


@pytest.fixture
def logits():
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 1, generator=g) * 3, torch.randn(6, 1, generator=g) * 3


def test_logistic_equals_bce_on_logits(logits):
    real, fake = logits
    a, b = d_loss("logistic", real, fake), d_loss("bce", real, fake)
    torch.testing.assert_close(a["real"], b["real"])
    torch.testing.assert_close(a["fake"], b["fake"])
    torch.testing.assert_close(g_loss("logistic", fake), g_loss("bce", fake))
    # non-saturating: -log sigmoid(D(G(z)))
    torch.testing.assert_close(g_loss("logistic", fake), -F.logsigmoid(fake).mean())


def test_each_formulation(logits):
    real, fake = logits
    torch.testing.assert_close(d_loss("hinge", real, None)["real"], F.relu(1 - real).mean())
    torch.testing.assert_close(d_loss("hinge", None, fake)["fake"], F.relu(1 + fake).mean())
    torch.testing.assert_close(d_loss("lsgan", real, fake)["real"], ((real - 1) ** 2).mean())
    torch.testing.assert_close(d_loss("lsgan", real, fake)["fake"], (fake**2).mean())
    torch.testing.assert_close(g_loss("lsgan", fake), ((fake - 1) ** 2).mean())
    torch.testing.assert_close(g_loss("wgan", fake), -fake.mean())
    assert g_loss("hinge", fake, reduce=False).shape == fake.shape
    with pytest.raises(ValueError, match="unknown GAN loss"):
        g_loss("nope", fake)


def test_r1_matches_the_analytic_gradient():
    # D(x) = sum(w * x) per sample: grad_x = w for every sample, ||grad||^2 = ||w||^2
    w = torch.tensor([1.0, -2.0, 0.5])
    x = torch.randn(4, 3, requires_grad=True)
    out = (x * w).sum(1)
    assert torch.allclose(grad_sqnorm(out, [x]), torch.full((4,), float((w**2).sum())))
    wp = w.clone().requires_grad_(True)
    x2 = torch.randn(4, 3, requires_grad=True)
    pen = r1_penalty((x2 * wp).sum(1), x2, gamma=10.0)
    assert pen.item() == pytest.approx(10.0 / 2 * float((w**2).sum()))
    pen.backward()  # create_graph: the penalty reaches D's weights (double backward): d/dw = gamma * w
    torch.testing.assert_close(wp.grad, 10.0 * w)
