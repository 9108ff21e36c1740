"""Cosine-similarity feature distillation."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from .base import StudentAdaptedLoss


class CosineDistillLoss(StudentAdaptedLoss):
    """``loss = mean_i (1 - cos(r(s)_i, t_i))``: direction-only matching of the
    adapted student to the raw target at each sample, insensitive to feature
    magnitude. The target is not adapted; see
    :class:`~.base.StudentAdaptedLoss` for why.
    """

    name = 'cosine'

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        return dict(
            loss=(1 - F.cosine_similarity(z_s, z_t, dim=1, eps=1e-8)).mean())
