"""Jensen-Shannon MI estimator (Deep InfoMax, Hjelm et al. 2019)."""
import math

import torch.nn.functional as F
from torch import Tensor

from .base import MIEstimator, off_diagonal_mean


class JSDEstimator(MIEstimator):
    """``I_JSD = E_P[-softplus(-T)] - E_Q[softplus(T)]``.

    The f-GAN lower bound of 2 JSD(P || Q) - log 4, so it lies in [-log 4, 0]: not nats of MI
    but monotone in it, with bounded, low-variance gradients -- the estimator to train with.
    ``chance_level = -log 4`` (T = 0). scores [N, N] -> scalar.
    """

    chance_level = -math.log(4.0)

    def estimate(self, scores: Tensor) -> Tensor:
        positive = -F.softplus(-scores.diagonal()).mean()
        negative = off_diagonal_mean(F.softplus(scores))
        return positive - negative
