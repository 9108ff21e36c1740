"""Random crop after padding, the CIFAR augmentation (mmdet's ``RandomCrop`` is for boxes)."""
from typing import Sequence, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from muse_det.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ClsRandomCrop(BaseTransform):
    """Pad ``img`` then crop a random ``crop_size`` window: mmpretrain's ``RandomCrop``
    (renamed: mmdet registers a box-aware ``RandomCrop``).

    Args:
        crop_size: int or (h, w).
        padding: None, int (all sides), (left/right, top/bottom) or (left, top, right, bottom).
        pad_val: fill value for ``padding_mode='constant'``.
        padding_mode: ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``.
    """

    def __init__(self, crop_size: Union[int, Sequence[int]],
                 padding: Union[None, int, Sequence[int]] = None,
                 pad_val: Union[int, Sequence[int]] = 0, padding_mode: str = 'constant'):
        size = (crop_size, crop_size) if isinstance(crop_size, int) else tuple(crop_size)
        if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
            raise ValueError(f'crop_size must be a positive int or (h, w), got {crop_size!r}')
        if padding_mode not in ('constant', 'edge', 'reflect', 'symmetric'):
            raise ValueError(f'unknown padding_mode {padding_mode!r}')
        self.crop_size = size
        self.padding = padding
        self.pad_val = pad_val
        self.padding_mode = padding_mode

    def transform(self, results: dict) -> dict:
        img = results['img']
        if self.padding:
            pad_val = self.pad_val
            if isinstance(pad_val, (int, float)) and img.ndim == 3:
                # OpenCV 5 fills only the first channel with a scalar border value.
                pad_val = (pad_val,) * img.shape[2]
            img = mmcv.impad(img, padding=self.padding, pad_val=pad_val,
                             padding_mode=self.padding_mode)
        (h, w), (th, tw) = img.shape[:2], self.crop_size
        if h < th or w < tw:
            raise ValueError(f'ClsRandomCrop: image {h}x{w} (after padding) is smaller than '
                             f'crop_size {th}x{tw}')
        y, x = np.random.randint(0, h - th + 1), np.random.randint(0, w - tw + 1)
        results['img'] = img[y:y + th, x:x + tw]
        results['img_shape'] = (th, tw)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(crop_size={self.crop_size}, padding={self.padding}, '
                f'pad_val={self.pad_val}, padding_mode={self.padding_mode!r})')
