"""Shared plumbing of the MI estimators: score-matrix validation, the fp32
island, P/Q views."""
import math

import torch
from torch import Tensor, nn

from ..precision import fp32
from ..validation import check_scores


class MIEstimator(nn.Module):
    """Base class of the MI estimators: I(s; t) from critic scores, in fp32.

    ``scores[i, j] = T(z_s[i], z_t[j])``: the entries ``(i, offset + i)``
    sample the joint P (positives; the diagonal of a square matrix), the
    other N(M-1) the product of marginals Q (negatives). M > N when the
    targets of every rank are gathered (``gather_negatives``): each rank then
    holds its N rows of the global matrix, its positives at column
    ``offset + i``. ``forward`` checks the scores, computes in fp32 (autocast
    off) and calls :meth:`estimate`, which subclasses implement.

    Attributes:
        chance_level (float): the estimate for an uninformative critic
            (the best constant T); the multiplicative MUSE objective
            subtracts it so that "no information" reads 0.
    """

    chance_level: float = 0.0

    def forward(self, scores: Tensor, offset: int = 0) -> Tensor:
        """Estimate I(s; t) from the critic scores.

        Args:
            scores (Tensor): critic scores, shape (N, M), M >= N, M >= 2; any
                floating dtype (computed in fp32).
            offset (int): row i's positive is ``scores[i, offset + i]``,
                0 <= offset <= M - N. Defaults to 0 (the diagonal).

        Returns:
            Tensor: the estimate, scalar, fp32 (nats for DV and InfoNCE; the
            JSD bound for JSD).
        """
        return self._forward(check_scores(scores, offset), offset)

    @fp32
    def _forward(self, scores: Tensor, offset: int) -> Tensor:
        return self.estimate(scores, offset)

    def estimate(self,
                 scores: Tensor,
                 offset: int = 0) -> Tensor:  # pragma: no cover
        """The estimator proper, on checked fp32 scores.

        Args:
            scores (Tensor): critic scores, shape (N, M).
            offset (int): column offset of the positives. Defaults to 0.

        Returns:
            Tensor: the estimate, scalar.
        """
        raise NotImplementedError


def positives(scores: Tensor, offset: int = 0) -> Tensor:
    """The positive scores ``scores[i, offset + i]``.

    Args:
        scores (Tensor): score matrix, shape (N, M), M >= N + offset.
        offset (int): column offset of the positives. Defaults to 0.

    Returns:
        Tensor: the N positives, shape (N,).
    """
    return scores.diagonal(offset)


def negative_mean(values: Tensor, offset: int = 0) -> Tensor:
    """Mean of the N(M-1) entries that are not positives.

    Computed as (total - positives) / count, without a boolean gather.

    Args:
        values (Tensor): a score matrix or a function of it, shape (N, M).
        offset (int): column offset of the positives. Defaults to 0.

    Returns:
        Tensor: the mean over the negatives, scalar.
    """
    n, m = values.shape
    return (values.sum() - positives(values, offset).sum()) / (n * (m - 1))


def negative_log_mean_exp(scores: Tensor, offset: int = 0) -> Tensor:
    """``log E_Q[exp T]`` over the N(M-1) negatives, by log-sum-exp.

    No overflow for T ~ 1e4.

    Args:
        scores (Tensor): critic scores, shape (N, M).
        offset (int): column offset of the positives. Defaults to 0.

    Returns:
        Tensor: log of the mean of exp(T) over the negatives, scalar.
    """
    n, m = scores.shape
    mask = torch.zeros(n, m, dtype=torch.bool, device=scores.device)
    mask.diagonal(offset).fill_(True)
    return scores.masked_fill(
        mask, float('-inf')).logsumexp(dim=(0, 1)) - math.log(n * (m - 1))
