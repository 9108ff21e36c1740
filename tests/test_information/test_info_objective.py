"""MUSE objective: the two variants, and the multiplicative gradient at
chance level."""
import math

import pytest
import torch

from muse_det.information import (CodingRateEntropy, GaussianEntropy,
                                  JSDEstimator, MUSEObjective)


def inputs(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(
        16, 16, generator=gen), torch.randn(
            16, 6, generator=gen)


def test_additive_is_mi_plus_weighted_entropy_per_dim():
    scores, z = inputs()
    out = MUSEObjective('additive', entropy_weight=0.7)(scores, z)
    mi, h = JSDEstimator()(scores), GaussianEntropy()(z)
    assert out['objective'].item() == pytest.approx(
        (mi + 0.7 * h / 6).item(), abs=1e-6)
    assert out['mi'].item() == pytest.approx(mi.item())
    assert out['entropy'].item() == pytest.approx(h.item())


def test_mi_weight_keeps_self_information_alone():
    scores, z = inputs()
    scores.requires_grad_(True)
    out = MUSEObjective(
        'additive', entropy_weight=0.7, mi_weight=0.0)(scores, z)
    assert out['objective'].item() == pytest.approx(
        (0.7 * GaussianEntropy()(z) / 6).item(), abs=1e-6)
    # the MI is still estimated and logged; the critic keeps a (zero)
    # gradient
    assert out['mi'].item() == pytest.approx(JSDEstimator()(scores).item())
    out['objective'].backward()
    assert scores.grad is not None and scores.grad.abs().sum() == 0
    with pytest.raises(ValueError, match='mi_weight applies to variant='):
        MUSEObjective('multiplicative', mi_weight=0.0)


def test_entropy_weight_is_a_runtime_attribute():
    scores, z = inputs()
    objective = MUSEObjective('additive')
    objective.entropy_weight = 0.0
    assert objective(scores, z)['objective'].item() == pytest.approx(
        JSDEstimator()(scores).item())


def test_multiplicative_value_and_straight_through_gradient():
    # An untrained critic sits below JSD chance (-log 4): I+ = 0 in value, but
    # the critic must still receive a gradient, or training never starts.
    scores, z = inputs()
    scores = (0.1 * scores).requires_grad_(True)
    objective = MUSEObjective('multiplicative')
    out = objective(scores, z)
    mi = JSDEstimator()(scores)
    assert mi.item() < -math.log(4)
    assert out['objective'].item() == 0.0
    out['objective'].backward()
    assert scores.grad.abs().sum() > 0

    strong = torch.eye(16) * 8 - 2  # informative critic: I above chance
    out = objective(strong, z)
    expected = (JSDEstimator()(strong) +
                math.log(4)) * CodingRateEntropy()(z) / 6
    assert out['objective'].item() == pytest.approx(expected.item(), rel=1e-6)
