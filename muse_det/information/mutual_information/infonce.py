"""InfoNCE MI estimator (CPC, van den Oord et al. 2018)."""
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import MIEstimator


class InfoNCEEstimator(MIEstimator):
    """InfoNCE (CPC) estimate of I(s; t).

    ``I_NCE = log M - CE(softmax over each row of T, target = positive)``
    ``      = log M + mean_i [T_{i, offset+i} - logsumexp_j T_ij]``.

    A low-variance lower bound on I(s; t) that can never exceed log M (M
    candidate targets; M = N for a square matrix). A mean over rows: ranks
    holding the rows of one global matrix average to its estimate.
    ``chance_level = 0``.

    Args:
        symmetric (bool): average the row-wise (student -> target) and
            column-wise (target -> student) cross-entropies, as CLIP does;
            needs a square score matrix. Defaults to False.
    """

    chance_level = 0.0

    def __init__(self, symmetric: bool = False):
        super().__init__()
        self.symmetric = bool(symmetric)

    def estimate(self, scores: Tensor, offset: int = 0) -> Tensor:
        """InfoNCE estimate.

        Args:
            scores (Tensor): critic scores, shape (N, M) (square if
                ``symmetric``).
            offset (int): column offset of the positives. Defaults to 0.

        Returns:
            Tensor: I_NCE in nats, scalar, <= log M.

        Raises:
            ValueError: if ``symmetric`` and N != M.
        """
        n, m = scores.shape
        if self.symmetric and n != m:
            raise ValueError(
                'symmetric InfoNCE needs the square score matrix of all '
                f'students against all targets, got {n}x{m} (gather_negatives '
                'gives each rank only its students\' rows); use '
                'symmetric=False')
        labels = torch.arange(offset, offset + n, device=scores.device)
        # cross_entropy works by log-softmax (log-sum-exp), so logits of
        # 1e4 do not overflow
        ce = F.cross_entropy(scores, labels)
        if self.symmetric:
            ce = 0.5 * (ce + F.cross_entropy(scores.t(), labels))
        return math.log(m) - ce
