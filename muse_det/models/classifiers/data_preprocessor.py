"""The classifier's data preprocessor: mmengine's image preprocessor, mmpretrain's arguments."""
from typing import Optional

from mmengine.model import ImgDataPreprocessor

from muse_det.registry import MODELS


@MODELS.register_module()
class ClsDataPreprocessor(ImgDataPreprocessor):
    """Stacks, converts channels, normalises (``mean``/``std``) and pads a batch of images;
    samples pass through to the device unchanged.

    mmengine's ``ImgDataPreprocessor`` does all the work; this accepts mmpretrain's spelling:
    ``to_rgb`` (= ``bgr_to_rgb``) and ``num_classes`` (stored; batch augments such as Mixup
    are not implemented).
    """

    def __init__(self, to_rgb: bool = False, num_classes: Optional[int] = None, **kwargs):
        if to_rgb:
            kwargs['bgr_to_rgb'] = True
        super().__init__(**kwargs)
        self.num_classes = num_classes
