"""Cosine-similarity feature distillation."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from .base import StudentAdaptedLoss


class CosineDistillLoss(StudentAdaptedLoss):
    """Cosine feature distillation: direction-only matching.

    ``loss = mean_i (1 - cos(r(s)_i, t_i))``: the adapted student r(s)
    against the raw target at each sample, insensitive to feature magnitude.
    The target is not adapted; see :class:`~.base.StudentAdaptedLoss` for
    why.

    Args:
        student_channels (int): channels C_s of the student feature.
        target_channels (int): channels C_t of the target feature.
        **kwargs: options of :class:`~.base.StudentAdaptedLoss`
            (``adapter``, ``adapter_hidden``) and :class:`~.base.PairLoss`
            (``loss_weight``, sampling, ``detach_target``, ...).
    """

    name = 'cosine'

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        """Mean cosine distance.

        Args:
            z_s (Tensor): adapted student samples, shape (N, C_t).
            z_t (Tensor): raw target samples, shape (N, C_t).

        Returns:
            dict[str, Tensor]: ``loss`` (unweighted scalar).
        """
        return dict(
            loss=(1 - F.cosine_similarity(z_s, z_t, dim=1, eps=1e-8)).mean())
