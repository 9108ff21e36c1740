"""FitNets hint loss (Romero et al. 2015)."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from .base import StudentAdaptedLoss


class L2DistillLoss(StudentAdaptedLoss):
    """``loss = mean_{i, c} (r(s)_ic - t_ic)^2``: squared error between the adapted student and the
    raw target at the sampled locations (an unbiased estimate of the full-map error); r is the
    student adapter to C_t (the FitNets regressor). The target is not adapted; see
    :class:`~.base.StudentAdaptedLoss` for why.
    """

    name = 'l2'

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        return dict(loss=F.mse_loss(z_s, z_t))
