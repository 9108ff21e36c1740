"""FitNets hint loss (Romero et al. 2015)."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from .base import StudentAdaptedLoss


class L2DistillLoss(StudentAdaptedLoss):
    """``loss = mean_{i, c} (r(s)_ic - std(t)_ic)^2``: squared error between
    the adapted student and the target, standardised per channel over the N
    samples, at the sampled locations (an unbiased estimate of the full-map
    error); r is the student adapter to C_t (the FitNets regressor). See
    :class:`~.base.StudentAdaptedLoss` for why the target is standardised
    and never adapted.
    """

    name = 'l2'
    standardize_target = True

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        return dict(loss=F.mse_loss(z_s, z_t))
