"""The self-information term measures the student layer itself, through
nothing learnable."""
import math

import pytest
import torch

from muse_det.information import MUSELoss


def low_rank_feature(n=512, channels=64, rank=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(
        n, rank, generator=g) @ torch.randn(
            rank, channels, generator=g)


def entropy_and_its_gradient(loss, s):
    s = s.clone().requires_grad_(True)
    h = loss.objective.entropy(loss.entropy_view(s))
    (grad, ) = torch.autograd.grad(h, s)
    return h.item(), grad.norm().item()


@pytest.mark.parametrize('variant', ['additive', 'multiplicative'])
def test_learnable_parameters_cannot_change_the_entropy(variant):
    torch.manual_seed(0)
    # a frozen rank-8 layer: its entropy is fixed, whatever is trained
    s = low_rank_feature()
    t = torch.randn(512, 16)
    loss = MUSELoss(64, 16, variant=variant, pool=True, embed_dim=32)
    h0, g0 = entropy_and_its_gradient(loss, s)
    opt = torch.optim.Adam(loss.parameters(), lr=1e-2)
    for _ in range(50):
        out = loss(s, t)
        opt.zero_grad()
        out['loss'].backward()
        opt.step()
    h1, g1 = entropy_and_its_gradient(loss, s)
    assert out['entropy'].item() == pytest.approx(h0, rel=1e-5)
    assert h1 == pytest.approx(
        h0, rel=1e-5) and g1 == pytest.approx(
            g0, rel=1e-5)
    # the term keeps teaching the layer (on an adapter output it fell to 1e-8)
    assert g1 > 1e-3


def test_rank_deficient_layer_reads_far_below_the_maximum():
    # additive: gaussian entropy on a 32-d standardised view
    loss = MUSELoss(64, 16, variant='additive', pool=True)
    h_low, _ = entropy_and_its_gradient(loss, low_rank_feature(rank=8))
    h_full, _ = entropy_and_its_gradient(loss, torch.randn(512, 64))
    maximum = 32 / 2 * math.log(2 * math.pi * math.e)
    assert h_full > maximum - 2 and h_low < maximum - 20


def test_entropy_gradient_reaches_the_student_feature():
    s = low_rank_feature().requires_grad_(True)
    t = torch.randn(512, 16)
    kw = dict(
        variant='additive',
        pool=True,
        embed_dim=32,
        generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    with_h = MUSELoss(64, 16, entropy_weight=1.0, **kw)
    torch.manual_seed(0)
    without_h = MUSELoss(64, 16, entropy_weight=0.0, **kw)
    (g1, ) = torch.autograd.grad(with_h(s, t)['loss'], s)
    (g0, ) = torch.autograd.grad(without_h(s, t)['loss'], s)
    _, g_h = entropy_and_its_gradient(with_h, s.detach())
    # the difference is exactly -lambda/d_H dH/ds: the entropy's own
    # gradient at the layer
    assert (g1 - g0).norm().item() == pytest.approx(g_h / 32, rel=1e-3)
