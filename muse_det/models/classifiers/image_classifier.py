"""Backbone -> optional neck -> head, as mmpretrain's ``ImageClassifier``."""
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from muse_det.registry import MODELS
from muse_det.structures import ClsDataSample


@MODELS.register_module()
class ImageClassifier(BaseModel):
    """An image classifier whose parts come from mmdet's MODELS (``ResNet``, ``ResNet_CIFAR``,
    ``RegNet``, ``MobileNetV2``, ..., ``GlobalAveragePooling``, ``LinearClsHead``).

    Modes: ``loss`` -> ``dict(loss_cls=...)``; ``predict`` -> data samples with
    ``pred_score``/``pred_label``; ``tensor`` -> the head's logits (the features without head).

    Args:
        backbone, neck, head: configs; neck and head are optional.
        data_preprocessor: default ``dict(type='ClsDataPreprocessor')``; a dict without
            ``type`` (mmpretrain's top-level ``data_preprocessor``) gets that type.
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 data_preprocessor: Union[None, dict, nn.Module] = None,
                 init_cfg: Optional[dict] = None):
        if not isinstance(data_preprocessor, nn.Module):
            data_preprocessor = dict(data_preprocessor or {})
            data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head) if head is not None else None

    def forward(self, inputs: torch.Tensor,
                data_samples: Optional[List[ClsDataSample]] = None, mode: str = 'tensor'):
        if mode == 'tensor':
            feats = self.extract_feat(inputs)
            return self.head(feats) if self.head is not None else feats
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'invalid mode "{mode}": use "loss", "predict" or "tensor"')

    def extract_feat(self, inputs: torch.Tensor) -> Sequence[torch.Tensor]:
        x = self.backbone(inputs)
        return self.neck(x) if self.neck is not None else x

    def _require_head(self, what: str):
        if self.head is None:
            raise RuntimeError(f'ImageClassifier without a head cannot {what}; add `head`')
        return self.head

    def loss(self, inputs: torch.Tensor, data_samples: List[ClsDataSample]) -> dict:
        return self._require_head('compute losses').loss(self.extract_feat(inputs),
                                                        data_samples)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[ClsDataSample]] = None) -> List[ClsDataSample]:
        return self._require_head('predict').predict(self.extract_feat(inputs), data_samples)
