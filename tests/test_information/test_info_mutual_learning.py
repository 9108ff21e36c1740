"""Deep mutual learning between peers: golden values, detached teachers, dense
logits, errors."""
import math

import pytest
import torch

from muse_det.information import mutual_learning_losses


def test_two_peers_golden_values():
    # p0 = (1/2, 1/2), p1 = (3/4, 1/4)
    z0 = torch.tensor([[0.0, 0.0]])
    z1 = torch.tensor([[math.log(3.0), 0.0]])
    l0, l1 = mutual_learning_losses([z0, z1])
    kl_p1_p0 = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    kl_p0_p1 = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert l0.item() == pytest.approx(kl_p1_p0, abs=1e-6)  # 0.130812
    assert l1.item() == pytest.approx(kl_p0_p1, abs=1e-6)  # 0.143841


def test_temperature_softens_and_rescales_by_t_squared():
    z0 = torch.tensor([[0.0, 0.0]])
    # at T=2 this is p1 = (3/4, 1/4) again
    z1 = torch.tensor([[math.log(3.0) * 2, 0.0]])
    l0, _ = mutual_learning_losses([z0, z1], temperature=2.0)
    kl_p1_p0 = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert l0.item() == pytest.approx(4 * kl_p1_p0, abs=1e-6)


def test_three_peers_average_their_teachers_and_teachers_get_no_gradient():
    gen = torch.Generator().manual_seed(0)
    logits = [
        torch.randn(4, 5, generator=gen).requires_grad_(True) for _ in range(3)
    ]
    losses = mutual_learning_losses(logits)
    log_p = [torch.log_softmax(z.detach(), 1) for z in logits]

    def kl(j, i):  # KL(p_j || p_i), batch mean
        return (log_p[j].exp() * (log_p[j] - log_p[i])).sum(1).mean().item()

    assert losses[0].item() == pytest.approx(
        (kl(1, 0) + kl(2, 0)) / 2, abs=1e-6)
    losses[0].backward()
    assert logits[0].grad.abs().sum() > 0
    assert logits[1].grad is None and logits[2].grad is None


def test_dense_logits_are_one_distribution_per_location():
    gen = torch.Generator().manual_seed(1)
    maps = [torch.randn(2, 4, 3, 3, generator=gen) for _ in range(2)]
    flat = [m.permute(0, 2, 3, 1).reshape(-1, 4) for m in maps]
    for a, b in zip(
            mutual_learning_losses(maps), mutual_learning_losses(flat)):
        assert a.item() == pytest.approx(b.item(), abs=1e-6)


def test_identical_peers_have_zero_loss():
    z = torch.randn(3, 7)
    assert all(loss.item() == pytest.approx(0.0, abs=1e-7)
               for loss in mutual_learning_losses([z, z.clone()]))


@pytest.mark.parametrize('logits,kwargs,match', [
    ([torch.zeros(2, 3)], {}, 'at least 2 peers'),
    ([torch.zeros(2, 3), torch.zeros(2, 4)], {}, 'share one shape'),
    ([torch.zeros(2, 3), torch.zeros(2, 3)
      ], dict(temperature=0), 'temperature must be positive'),
    ([torch.zeros(2, 3), torch.full(
        (2, 3), float('nan'))], {}, 'peer 1 logits contains NaN'),
])
def test_errors_name_the_problem(logits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mutual_learning_losses(logits, **kwargs)
