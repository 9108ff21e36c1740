"""Cross-entropy with label smoothing (mmpretrain's ``LabelSmoothLoss``, 'original' mode)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from torch import nn

from muse_det.registry import MODELS


@MODELS.register_module()
class LabelSmoothLoss(nn.Module):
    """CE against ``(1 - label_smooth_val) * one_hot + label_smooth_val / num_classes``.

    Called like mmdet's ``CrossEntropyLoss``: ``(cls_score [N, C], label [N], weight=None,
    avg_factor=None, reduction_override=None)``.
    """

    def __init__(self, label_smooth_val: float, mode: str = 'original',
                 reduction: str = 'mean', loss_weight: float = 1.0):
        super().__init__()
        if not 0 <= label_smooth_val < 1:
            raise ValueError(f'label_smooth_val must be in [0, 1), got {label_smooth_val}')
        if mode != 'original':
            raise ValueError(f"only mode='original' is implemented, got {mode!r}")
        self.label_smooth_val = float(label_smooth_val)
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor,
                weight: Optional[torch.Tensor] = None, avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> torch.Tensor:
        loss = F.cross_entropy(cls_score, label, reduction='none',
                               label_smoothing=self.label_smooth_val)
        reduction = reduction_override or self.reduction
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)
