"""MI estimators against closed forms: correlated Gaussians, I = -d/2
log(1 - rho^2)."""
import math

import numpy as np
import pytest
import torch

from muse_det.information import (DVEstimator, InfoNCEEstimator, JSDEstimator,
                                  build_mi_estimator)


# --- trained critics (separable MLP, 300 Adam steps: conftest.fit_critic) ---
# Measured over seeds 0-5 (d=2, rho=0.8,
# N=256, truth 1.022 nats, log N = 5.55):
#   DV 0.935-0.983 (worst error 0.087), InfoNCE 0.974-1.010 (worst 0.048).
# Tolerances: about twice the worst measured error. Both are lower bounds,
# so also check that neither overshoots the truth by more than the
# evaluation noise.
@pytest.mark.parametrize('estimator, tol', [('dv', 0.15), ('infonce', 0.10)])
def test_trained_critic_reaches_true_mi(trained_estimate, mi_truth, estimator,
                                        tol):
    truth = mi_truth(2, 0.8)
    estimate = trained_estimate(
        estimator, d=2, rho=0.8, n=256, steps=300, seed=0)
    assert abs(estimate - truth) < tol
    assert estimate < truth + 0.05


def test_infonce_is_capped_at_log_n(trained_estimate, mi_truth):
    # d=10, rho=0.95: truth 11.64 nats >> log 64 = 4.16. Measured
    # (200 steps, seeds 0-4): 4.035-4.108, i.e. within 0.13 of the cap;
    # tolerance 0.3 below, never above.
    n = 64
    estimate = trained_estimate(
        'infonce', d=10, rho=0.95, n=n, steps=200, seed=0)
    assert mi_truth(10, 0.95) > 2 * math.log(n)
    assert math.log(n) - 0.3 < estimate <= math.log(n) + 1e-6


def test_jsd_orders_correlations(trained_estimate):
    # Measured (200 steps, seeds 0-3) at rho = 0.2/0.5/0.8/0.95: about
    # -1.37/-1.25/-0.92/-0.50, smallest gap between neighbours 0.09 -> strict
    # monotonicity is a safe check.
    values = [
        trained_estimate(
            'jsd', d=2, rho=rho, steps=200, seed=0, eval_batches=5)
        for rho in (0.2, 0.5, 0.8, 0.95)
    ]
    assert all(a < b for a, b in zip(values, values[1:])), values
    # near chance for weak dependence
    assert values[0] >= JSDEstimator.chance_level - 0.05


def test_mi_invariant_to_target_channel_permutation(trained_estimate):
    # Same seed and data stream, target channels permuted:
    # measured |difference| <= 0.004 over seeds 0-3 (d=4, rho=0.75, InfoNCE
    # ~1.53); tolerance 0.05.
    a = trained_estimate('infonce', d=4, rho=0.75, seed=1)
    b = trained_estimate('infonce', d=4, rho=0.75, seed=1, perm=[2, 0, 3, 1])
    assert abs(a - b) < 0.05


# --- the analytic critic: T* = log p(x, y) / (p(x) p(y)) ---------------------
def optimal_scores(x, y, rho):
    d = x.shape[1]
    quad = (rho**2 * (x**2).sum(1)[:, None] - 2 * rho * x @ y.t() + rho**2 *
            (y**2).sum(1)[None, :]) / (2 * (1 - rho**2))
    return -0.5 * d * math.log(1 - rho**2) - quad


def test_optimal_critic_dv_and_infonce(gaussians, mi_truth):
    # With the true log density ratio no training is involved: DV -> I as N
    # grows; InfoNCE -> I when I << log N. Measured at N=2048, d=2, rho=0.8
    # (truth 1.022), seeds 0-4: both within 0.065 of the truth. Tolerance 0.15.
    gen = torch.Generator().manual_seed(0)
    x, y = gaussians(2048, 2, 0.8, gen)
    scores = optimal_scores(x, y, 0.8)
    truth = mi_truth(2, 0.8)
    assert abs(DVEstimator()(scores).item() - truth) < 0.15
    assert abs(InfoNCEEstimator()(scores).item() - truth) < 0.15


# --- golden values: explicit loops over a fixed 3x3 score matrix -------------
SCORES = np.array([[2.0, -1.0, 0.5], [0.3, 1.5, -0.7], [-2.0, 0.1, 3.0]])


def softplus(v):
    return math.log1p(math.exp(v))


def golden_jsd(t):
    n = len(t)
    pos = sum(-softplus(-t[i][i]) for i in range(n)) / n
    neg = sum(softplus(t[i][j]) for i in range(n)
              for j in range(n) if i != j) / (
                  n * (n - 1))
    return pos - neg


def golden_dv(t):
    n = len(t)
    pos = sum(t[i][i] for i in range(n)) / n
    neg = sum(math.exp(t[i][j]) for i in range(n)
              for j in range(n) if i != j) / (
                  n * (n - 1))
    return pos - math.log(neg)


def golden_infonce(t, symmetric=False):
    n = len(t)
    rows = sum(t[i][i] - math.log(sum(math.exp(t[i][j]) for j in range(n)))
               for i in range(n)) / n
    cols = sum(t[j][j] - math.log(sum(math.exp(t[i][j]) for i in range(n)))
               for j in range(n)) / n
    return math.log(n) + ((rows + cols) / 2 if symmetric else rows)


@pytest.mark.parametrize('estimator, golden',
                         [(JSDEstimator(), golden_jsd),
                          (DVEstimator(), golden_dv),
                          (InfoNCEEstimator(), golden_infonce),
                          (InfoNCEEstimator(symmetric=True),
                           lambda t: golden_infonce(t, symmetric=True))])
def test_golden_values(estimator, golden):
    value = estimator(torch.tensor(SCORES, dtype=torch.float64))
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(golden(SCORES.tolist()), abs=1e-5)


def test_chance_levels():
    zeros = torch.zeros(5, 5)
    for name in ('jsd', 'dv', 'infonce'):
        est = build_mi_estimator(name)
        assert est(zeros).item() == pytest.approx(est.chance_level, abs=1e-6)
    assert JSDEstimator.chance_level == pytest.approx(-math.log(4))


def test_dv_moving_average_correction():
    # Value is always the minibatch DV estimate. Gradient of the log-mean-exp
    # term becomes grad(mean_exp) / ema: after the first step the debiased EMA
    # equals the batch mean (plain DV gradient); after a second batch it is
    # (m e1 + e2) / (1 + m).
    m = 0.9
    plain, ema = DVEstimator(), DVEstimator(ema_momentum=m)
    s1 = torch.tensor(SCORES, dtype=torch.float32)
    s2 = s1 * 0.5 + 1.0

    def grads(est, s):
        s = s.clone().requires_grad_(True)
        value = est(s)
        value.backward()
        return value.item(), s.grad

    off = ~torch.eye(3, dtype=torch.bool)
    mean_exp = [s[off].exp().mean().item() for s in (s1, s2)]
    v_plain, g_plain = grads(plain, s1)
    v_ema, g_ema = grads(ema, s1)
    assert v_ema == pytest.approx(v_plain, abs=1e-6)
    assert torch.allclose(g_ema, g_plain, atol=1e-6)

    v_plain, g_plain = grads(plain, s2)
    v_ema, g_ema = grads(ema, s2)
    assert v_ema == pytest.approx(v_plain, abs=1e-6)
    average = (m * mean_exp[0] + mean_exp[1]) / (1 + m)
    # plain gradient divides by e2, corrected one by the average
    scale = mean_exp[1] / average
    # off-diagonal entries: only the Q term
    neg_plain, neg_ema = g_plain[off], g_ema[off]
    assert torch.allclose(neg_ema, neg_plain * scale, rtol=1e-4)
    # E_P term untouched
    assert torch.allclose(g_ema.diagonal(), g_plain.diagonal())


def test_dv_ema_frozen_in_eval_mode():
    est = DVEstimator(ema_momentum=0.99).eval()
    est(torch.randn(4, 4))
    assert int(est.num_updates) == 0
