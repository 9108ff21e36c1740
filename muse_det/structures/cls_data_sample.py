"""The data sample of image classification: ground truth and prediction of one image."""
from numbers import Integral

import numpy as np
import torch
from mmengine.structures import BaseDataElement


def format_label(value) -> torch.Tensor:
    """An int, a sequence of ints, an integer array or tensor -> a 1-D ``LongTensor``."""
    if isinstance(value, (Integral, np.integer)) and not isinstance(value, bool):
        return torch.tensor([int(value)], dtype=torch.long)
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    elif isinstance(value, (list, tuple)):
        value = torch.tensor(value)
    if not isinstance(value, torch.Tensor) or value.is_floating_point() or value.ndim > 1 \
            or value.dtype == torch.bool:
        raise TypeError(f'a label must be an int or a 1-D sequence/array/tensor of ints, '
                        f'got {value!r}')
    return value.long().reshape(-1)


class ClsDataSample(BaseDataElement):
    """Fields: ``gt_label`` ([1] long), ``pred_label`` ([1] long), ``pred_score`` ([C] float)
    and metainfo (``sample_idx``, ``img_shape``, ...), as mmpretrain's ``DataSample``."""

    def set_gt_label(self, value) -> 'ClsDataSample':
        self.set_field(format_label(value), 'gt_label', dtype=torch.Tensor)
        return self

    def set_pred_label(self, value) -> 'ClsDataSample':
        self.set_field(format_label(value), 'pred_label', dtype=torch.Tensor)
        return self

    def set_pred_score(self, value: torch.Tensor) -> 'ClsDataSample':
        if not isinstance(value, torch.Tensor) or value.ndim != 1:
            raise TypeError(f'pred_score must be a 1-D tensor of class scores, got {value!r}')
        self.set_field(value, 'pred_score', dtype=torch.Tensor)
        return self
