"""Jensen-Shannon MI estimator (Deep InfoMax, Hjelm et al. 2019)."""
import math

import torch.nn.functional as F
from torch import Tensor

from .base import MIEstimator, negative_mean, positives


class JSDEstimator(MIEstimator):
    """Jensen-Shannon (Deep InfoMax) estimate of I(s; t).

    ``I_JSD = E_P[-softplus(-T)] - E_Q[softplus(T)]``: the f-GAN lower bound
    on 2 JSD(P || Q) - log 4, which lies in [-log 4, 0]; the estimate itself
    is always <= 0. Not nats of MI but monotone in it, with bounded,
    low-variance gradients: the estimator to train with.
    ``chance_level = -log 4`` (T = 0, the best constant critic). A mean over
    rows: ranks holding the rows of one global matrix average to its
    estimate.
    """

    chance_level = -math.log(4.0)

    def estimate(self, scores: Tensor, offset: int = 0) -> Tensor:
        """JSD estimate.

        Args:
            scores (Tensor): critic scores, shape (N, M).
            offset (int): column offset of the positives. Defaults to 0.

        Returns:
            Tensor: I_JSD, scalar, <= 0.
        """
        positive = -F.softplus(-positives(scores, offset)).mean()
        negative = negative_mean(F.softplus(scores), offset)
        return positive - negative
