"""Recurrent generator unrolls reproduce the official SequentialMixin (input order, placeholders)."""

from __future__ import annotations

import torch

from vidgan.temporal.nets import DCGANEncoder, DCGANGenerator, EncodedGenerator, ResnetGenerator
from vidgan.temporal.recurrent import RecurrentGenerator

ATOL = 2e-4  # README: rollouts and unrolls


def _pix2pix(golden, file, blocks, ngf, n_prev=1, cond_prev=False):
    net = ResnetGenerator(3 + 3 * n_prev + (3 * n_prev if cond_prev else 0), 3, ngf, blocks)
    rg = RecurrentGenerator(net, 3, 3, n_prev=n_prev, cond_prev=cond_prev)
    rg.net.load_state_dict(golden.state(file, "generator"), strict=True)
    return rg


def test_model_p_unroll(golden):
    c = golden.clips()
    rg = _pix2pix(golden, "model_p.npz", 9, 8)
    with torch.no_grad():
        out = rg.unroll(c["src"], init_prev=c["noise_prev"][:, :1])
    torch.testing.assert_close(out, golden.t("model_p.npz", "pipeline/fake_target"), atol=ATOL, rtol=0)


def test_pingpong_model_unroll(golden):
    c = golden.clips()
    rg = _pix2pix(golden, "model_p_pingpong.npz", 9, 8)
    with torch.no_grad():
        out = rg.unroll(c["src"], init_prev=c["noise_prev"][:, :1])
    torch.testing.assert_close(out, golden.t("model_p_pingpong.npz", "pipeline/fake_target"), atol=ATOL, rtol=0)


def test_two_previous_frames_with_conditioning_order(golden):
    """[src_{t-2}, src_{t-1}, src_t, fake_{t-2}, fake_{t-1}], placeholders oldest first."""
    c = golden.clips()
    rg = _pix2pix(golden, "model_seq_ng2.npz", 1, 4, n_prev=2, cond_prev=True)
    assert rg.in_channels == golden.config["model_seq_ng2"]["generator_input_channels"]
    with torch.no_grad():
        out = rg.unroll(c["src"], init_prev=c["noise_prev"][:, 0:2], init_cond=c["noise_cond"][:, 0:2])
    torch.testing.assert_close(out, golden.t("model_seq_ng2.npz", "unroll/fake_target"), atol=ATOL, rtol=0)
    # the test-time rolling buffer (one step per call) reproduces the training unroll exactly
    state = rg.init_state(c["src"][:, 0], init_prev=c["noise_prev"][:, 0:2], init_cond=c["noise_cond"][:, 0:2])
    with torch.no_grad():
        steps = []
        for t in range(c["src"].shape[1]):
            y, state = rg.step(c["src"][:, t], state)
            steps.append(y)
    assert torch.equal(torch.stack(steps, 1), out)


def test_model_u_unroll(golden):
    """TimeCycleGAN-U: frame t = G(E(frame t-1)), frame 0 from the N(0, 1) placeholder image."""
    c = golden.clips()
    net = EncodedGenerator(DCGANEncoder(3, 8), DCGANGenerator(3, 8))
    net.encoder.load_state_dict(golden.state("model_u.npz", "encoder"), strict=True)
    net.generator.load_state_dict(golden.state("model_u.npz", "generator"), strict=True)
    rg = RecurrentGenerator(net, 3, 0, n_prev=1)
    with torch.no_grad():
        out = rg.unroll(None, frames=5, init_prev=c["noise_prev"][:, :1])
    torch.testing.assert_close(out, golden.t("model_u.npz", "pipeline/fake_target"), atol=ATOL, rtol=0)


def test_placeholders_and_per_frame_mode():
    net = ResnetGenerator(6, 3, 4, 1)
    rg = RecurrentGenerator(net, 3, 3, n_prev=1)
    src = torch.rand(2, 3, 3, 8, 8) * 2 - 1
    a = rg.unroll(src, generator=torch.Generator().manual_seed(1))
    b = rg.unroll(src, generator=torch.Generator().manual_seed(1))
    assert a.shape == (2, 3, 3, 8, 8) and torch.equal(a, b)
    z = RecurrentGenerator(net, 3, 3, n_prev=1, init="zero").unroll(src)
    assert torch.isfinite(z).all()
    per_frame = RecurrentGenerator(ResnetGenerator(3, 3, 4, 1), 3, 3, n_prev=0)
    assert per_frame.in_channels == 3 and per_frame.unroll(src).shape == (2, 3, 3, 8, 8)
