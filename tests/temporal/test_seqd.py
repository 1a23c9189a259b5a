"""Multi-scale sequence discriminator: windows, per-scale D/G terms, raw window maps, feature matching."""

from __future__ import annotations

import pytest
import torch

from vidgan.temporal.seqd import SequenceDiscriminatorLoss, window_indices

from .conftest import close

NAMES = ("discriminator_seq", "discriminator_seq_2", "discriminator_seq_3")


def _loss(golden, ignore, gan, fm_mode="window"):
    kw = golden.config["seqd"]["get_model"]["sequence_discriminator_kwargs"]
    loss = SequenceDiscriminatorLoss(
        3, kw["n_frames_D"], kw["temporal_scales"], ignore, ndf=8, gan=gan, fm_weight=1.0, fm_mode=fm_mode
    )
    for d, name in zip(loss.discriminators, NAMES, strict=True):
        d.load_state_dict(golden.state("seqd.npz", name), strict=True)
    return loss


@pytest.mark.parametrize("ignore", [0, 1])
@pytest.mark.parametrize("gan", ["lsgan", "vanilla"])
def test_per_scale_terms(golden, ignore, gan):
    c = golden.clips()
    v = golden.values["seqd"][f"ignore{ignore}/{gan}"]
    loss = _loss(golden, ignore, gan)
    wins = loss.windows(c["real"].shape[1])
    assert [[s, w] for s, ws in enumerate(wins) for w in ws] == v["windows"]
    with torch.no_grad():
        d, dp = loss.d_loss(c["real"], c["fake"], return_parts=True)
        g, gp = loss.g_loss(c["fake"], c["real"], return_parts=True)
        off = _loss(golden, ignore, gan, "official").g_loss(c["fake"], c["real"], return_parts=True)[1]
    for s in range(3):
        close(dp.get(f"real/{s}", 0.0), v["D_real_per_scale"][s])
        close(dp.get(f"fake/{s}", 0.0), v["D_fake_per_scale"][s])
        close(dp.get(str(s), 0.0), v["D_total_per_scale"][s])
        close(gp.get(f"gan/{s}", 0.0), v["G_per_scale"][s])
        close(gp.get(f"fm/{s}", 0.0), v["FM_per_scale_without_list_quirk_DERIVED"][s])
        close(off.get(f"fm/{s}", 0.0), v["FM_per_scale_official"][s])
        # the official shared list holds 4 entries per window (blocks 0-3 of D)
        assert 4 * len(wins[s]) == v["feature_list_lengths_after_call"][s]
    close(d, v["D_sum_over_scales"])
    close(g - sum(gp[k] for k in gp if k.startswith("fm/")), v["G_sum_over_scales"])


@pytest.mark.parametrize("ignore", [0, 1])
def test_raw_window_maps(golden, ignore):
    c = golden.clips()
    loss = _loss(golden, ignore, "lsgan")
    i = 0
    for s, wins in enumerate(loss.windows(5)):
        for w in wins:
            x = c["fake"][:, w].flatten(1, 2)
            with torch.no_grad():
                out = loss.discriminators[s](x)
            ref = golden.t("seqd.npz", f"ignore{ignore}/window_{i}_scale{s}_D_output_on_fake")
            torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
            i += 1


def test_windows_and_options():
    assert window_indices(5, 5) == [[[0, 1, 2, 3, 4]]]
    assert window_indices(5, 3, 2) == [[[0, 1, 2], [2, 3, 4]], []]
    with pytest.raises(ValueError):
        window_indices(5, 1)
    loss = SequenceDiscriminatorLoss(3, 2, 1, cond_channels=2, ndf=4, fm_weight=1.0, fm_reduction="mean")
    fake = (torch.rand(1, 3, 3, 32, 32) * 2 - 1).requires_grad_(True)
    real, cond = torch.rand(1, 3, 3, 32, 32), torch.rand(1, 3, 2, 32, 32)
    assert loss.discriminators[0].in_channels == 2 * 5
    g = loss.g_loss(fake, real, cond)
    g.backward()
    assert torch.isfinite(g) and fake.grad.abs().sum() > 0
    d = loss.d_loss(real, fake, cond)
    assert d.requires_grad and torch.isfinite(d)
    with pytest.raises(ValueError, match="cond"):
        loss.d_loss(real, fake)
    with pytest.raises(ValueError, match="real"):
        loss.g_loss(fake, None, cond)
