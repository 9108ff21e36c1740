"""Shared plumbing of the MI estimators: score-matrix validation, the fp32 island, P/Q views."""
import math

import torch
from torch import Tensor, nn

from ..checks import check_scores, fp32


class MIEstimator(nn.Module):
    """Base: ``forward(scores [N, N]) -> scalar`` estimate of I(s; t) in nats, computed in fp32.

    ``scores[i, j] = T(z_s[i], z_t[j])``: the diagonal samples the joint P (positives), the
    N(N-1) off-diagonal entries the product of marginals Q (negatives).
    ``chance_level``: the value of the estimate for an uninformative critic (T = const); the
    multiplicative MUSE variant shifts by it so that "no information" reads 0.
    """

    chance_level: float = 0.0

    def forward(self, scores: Tensor) -> Tensor:
        return self._forward(check_scores(scores))

    @fp32
    def _forward(self, scores: Tensor) -> Tensor:
        return self.estimate(scores)

    def estimate(self, scores: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


def off_diagonal_mean(values: Tensor) -> Tensor:
    """Mean of the N(N-1) off-diagonal entries of a square matrix (without a boolean gather)."""
    n = values.shape[0]
    return (values.sum() - values.diagonal().sum()) / (n * (n - 1))


def off_diagonal_log_mean_exp(scores: Tensor) -> Tensor:
    """log E_Q[exp T] over the off-diagonal entries, by log-sum-exp (no overflow for T ~ 1e4)."""
    n = scores.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=scores.device)
    return scores.masked_fill(eye, float('-inf')).logsumexp(dim=(0, 1)) - math.log(n * (n - 1))
