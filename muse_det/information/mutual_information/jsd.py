"""Jensen-Shannon MI estimator (Deep InfoMax, Hjelm et al. 2019)."""
import math

import torch.nn.functional as F
from torch import Tensor

from .base import MIEstimator, negative_mean, positives


class JSDEstimator(MIEstimator):
    """``I_JSD = E_P[-softplus(-T)] - E_Q[softplus(T)]``.

    The f-GAN lower bound of 2 JSD(P || Q) - log 4, so it lies in [-log 4, 0]:
    not nats of MI but monotone in it, with bounded, low-variance gradients --
    the estimator to train with. ``chance_level = -log 4`` (T = 0). scores
    [N, M], positives at (i, offset + i) -> scalar. A mean over rows: ranks
    holding the rows of one global matrix average to its estimate.
    """

    chance_level = -math.log(4.0)

    def estimate(self, scores: Tensor, offset: int = 0) -> Tensor:
        positive = -F.softplus(-positives(scores, offset)).mean()
        negative = negative_mean(F.softplus(scores), offset)
        return positive - negative
