"""Shared helpers of the information-core tests: correlated Gaussians and a
short critic fit."""
import math

import pytest
import torch

from muse_det.information import build_critic, build_mi_estimator


def correlated_gaussians(n, d, rho, generator):
    """d independent pairs (x_k, y_k), unit variance, correlation rho: I = -d/2
    log(1 - rho^2)."""
    x = torch.randn(n, d, generator=generator)
    y = rho * x + math.sqrt(1 - rho**2) * torch.randn(
        n, d, generator=generator)
    return x, y


def true_mi(d, rho):
    return -0.5 * d * math.log(1 - rho**2)


def fit_critic(estimator,
               d,
               rho,
               n=256,
               steps=300,
               seed=0,
               perm=None,
               eval_batches=20):
    """Train a separable MLP critic (hidden 64, unnormalised, so scores are
    unbounded) for ``steps`` Adam steps on fresh samples, then return the
    estimate averaged over ``eval_batches`` fresh batches. ``perm`` permutes
    the target channels."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    critic = build_critic(
        dict(type='separable', hidden=64, proj_dim=32, normalize=False), d, d)
    est = build_mi_estimator(estimator)
    opt = torch.optim.Adam(critic.parameters(), lr=5e-3)

    def batch():
        x, y = correlated_gaussians(n, d, rho, gen)
        return x, (y if perm is None else y[:, perm])

    for _ in range(steps):
        loss = -est(critic(*batch()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return sum(est(critic(*batch())).item()
                   for _ in range(eval_batches)) / eval_batches


@pytest.fixture(autouse=True)
def single_thread():
    """These tests run many tiny ops: one intra-op thread avoids OpenMP
    spin-waiting, which on a loaded 2-core machine made a 300-step critic fit
    20x slower (26 s vs 1.2 s measured)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def gaussians():
    return correlated_gaussians


@pytest.fixture
def mi_truth():
    return true_mi


@pytest.fixture
def trained_estimate():
    return fit_critic
