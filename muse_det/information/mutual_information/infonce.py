"""InfoNCE MI estimator (CPC, van den Oord et al. 2018)."""
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import MIEstimator


class InfoNCEEstimator(MIEstimator):
    """``I_NCE = log N - CE(softmax over each row of T, target = diagonal)``
    ``      = log N + mean_i [T_ii - logsumexp_j T_ij]``.

    A lower bound on I(s; t) that can never exceed log N
    (N = number of samples), with low variance. ``symmetric=True`` averages the
    row-wise (student -> target) and column-wise (target -> student)
    cross-entropies, as CLIP does. ``chance_level = 0``. scores [N, M],
    positives at (i, offset + i) -> scalar; the bound is then log M (every
    target is a candidate) and a mean over rows, so ranks holding the rows of
    one global matrix average to its estimate.
    """

    chance_level = 0.0

    def __init__(self, symmetric: bool = False):
        super().__init__()
        self.symmetric = bool(symmetric)

    def estimate(self, scores: Tensor, offset: int = 0) -> Tensor:
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
