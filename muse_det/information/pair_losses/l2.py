"""FitNets hint loss (Romero et al. 2015)."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from .base import StudentAdaptedLoss


class L2DistillLoss(StudentAdaptedLoss):
    """FitNets hint loss against the standardised target.

    ``loss = mean_{i, c} (r(s)_ic - std(t)_ic)^2``: squared error between the
    adapted student and the target, standardised per channel over the N
    samples, at the sampled locations (an estimate of the full-map error);
    r is the student adapter to C_t (the FitNets regressor). See
    :class:`~.base.StudentAdaptedLoss` for why the target is standardised
    and never adapted.

    Args:
        student_channels (int): channels C_s of the student feature.
        target_channels (int): channels C_t of the target feature.
        **kwargs: options of :class:`~.base.StudentAdaptedLoss`
            (``adapter``, ``adapter_hidden``) and :class:`~.base.PairLoss`
            (``loss_weight``, sampling, ``detach_target``, ...).
    """

    name = 'l2'
    standardize_target = True

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        """Mean squared error.

        Args:
            z_s (Tensor): adapted student samples, shape (N, C_t).
            z_t (Tensor): standardised target samples, shape (N, C_t).

        Returns:
            dict[str, Tensor]: ``loss`` (unweighted scalar).
        """
        return dict(loss=F.mse_loss(z_s, z_t))
