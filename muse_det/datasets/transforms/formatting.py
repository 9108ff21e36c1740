"""Pack an image and its label into the classifier's input format."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from muse_det.registry import TRANSFORMS
from muse_det.structures import ClsDataSample


@TRANSFORMS.register_module()
class PackInputs(BaseTransform):
    """``results`` -> ``dict(inputs=CHW tensor, data_samples=ClsDataSample)``, as mmpretrain's.

    ``gt_label`` (if present) becomes the sample's label; the ``meta_keys`` present in
    ``results`` become its metainfo. Pixels keep their dtype; the data preprocessor normalises.
    """

    def __init__(self, input_key: str = 'img',
                 meta_keys: Sequence[str] = ('sample_idx', 'img_path', 'ori_shape', 'img_shape',
                                             'scale_factor', 'flip', 'flip_direction')):
        self.input_key = input_key
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results[self.input_key]
        if isinstance(img, np.ndarray):
            img = img[..., None] if img.ndim == 2 else img
            img = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = ClsDataSample()
        if results.get('gt_label') is not None:
            sample.set_gt_label(results['gt_label'])
        sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=img, data_samples=sample)

    def __repr__(self):
        return f'{type(self).__name__}(input_key={self.input_key!r}, meta_keys={self.meta_keys})'
