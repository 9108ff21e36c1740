"""Shared plumbing of the MI estimators: score-matrix validation, the fp32
island, P/Q views."""
import math

import torch
from torch import Tensor, nn

from ..precision import fp32
from ..validation import check_scores


class MIEstimator(nn.Module):
    """Base: ``forward(scores [N, M], offset=0) -> scalar`` estimate of I(s; t)
    in nats, in fp32.

    ``scores[i, j] = T(z_s[i], z_t[j])``: the entries ``(i, offset + i)``
    sample the joint P (positives; the diagonal of a square matrix), the other
    N(M-1) the product of marginals Q (negatives). M > N when the targets of
    every rank are gathered (``gather_negatives``): each rank then holds its N
    rows of the global matrix, its positives at its rows' ``offset``.
    ``chance_level``: the value of the estimate for an uninformative critic
    (T = const); the multiplicative MUSE variant shifts by it so that "no
    information" reads 0.
    """

    chance_level: float = 0.0

    def forward(self, scores: Tensor, offset: int = 0) -> Tensor:
        return self._forward(check_scores(scores, offset), offset)

    @fp32
    def _forward(self, scores: Tensor, offset: int) -> Tensor:
        return self.estimate(scores, offset)

    def estimate(self,
                 scores: Tensor,
                 offset: int = 0) -> Tensor:  # pragma: no cover
        raise NotImplementedError


def positives(scores: Tensor, offset: int = 0) -> Tensor:
    """The N positive scores ``scores[i, offset + i]``."""
    return scores.diagonal(offset)


def negative_mean(values: Tensor, offset: int = 0) -> Tensor:
    """Mean of the N(M-1) entries that are not positives
    (without a boolean gather)."""
    n, m = values.shape
    return (values.sum() - positives(values, offset).sum()) / (n * (m - 1))


def negative_log_mean_exp(scores: Tensor, offset: int = 0) -> Tensor:
    """log E_Q[exp T] over the non-positive entries, by log-sum-exp
    (no overflow for T ~ 1e4)."""
    n, m = scores.shape
    mask = torch.zeros(n, m, dtype=torch.bool, device=scores.device)
    mask.diagonal(offset).fill_(True)
    return scores.masked_fill(
        mask, float('-inf')).logsumexp(dim=(0, 1)) - math.log(n * (m - 1))
