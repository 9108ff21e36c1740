"""A linear classification head on the last (pooled) feature."""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from muse_det.evaluation import topk_accuracy
from muse_det.registry import MODELS
from muse_det.structures import ClsDataSample

Feats = Union[torch.Tensor, Sequence[torch.Tensor]]


@MODELS.register_module()
class LinearClsHead(BaseModule):
    """``fc(feats[-1])`` -> logits; as mmpretrain's ``LinearClsHead``.

    Args:
        num_classes: number of classes.
        in_channels: channels of the (pooled) input vector.
        loss: the classification loss, from MODELS (mmdet's ``CrossEntropyLoss``, or
            ``LabelSmoothLoss``); its value is ``loss_cls``.
        topk, cal_acc: with ``cal_acc=True`` the training batch's top-k accuracy is logged
            as ``accuracy_top-k`` (not a loss: the name has no 'loss').
    """

    def __init__(self, num_classes: int, in_channels: int,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: Union[int, Sequence[int]] = (1,), cal_acc: bool = False,
                 init_cfg: Optional[dict] = dict(type='Normal', layer='Linear', std=0.01)):
        super().__init__(init_cfg=init_cfg)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got {num_classes}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.topk = (topk,) if isinstance(topk, int) else tuple(topk)
        self.cal_acc = cal_acc
        self.loss_module = MODELS.build(loss)
        self.fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Feats) -> torch.Tensor:
        return feats[-1] if isinstance(feats, (tuple, list)) else feats

    def forward(self, feats: Feats) -> torch.Tensor:
        return self.fc(self.pre_logits(feats))

    def loss(self, feats: Feats, data_samples: List[ClsDataSample]) -> dict:
        cls_score = self(feats)
        target = torch.cat([s.gt_label for s in data_samples]).to(cls_score.device)
        losses = dict(loss_cls=self.loss_module(cls_score, target,
                                                avg_factor=cls_score.size(0)))
        if self.cal_acc:
            with torch.no_grad():
                accs = topk_accuracy(cls_score, target, self.topk)
            losses.update({f'accuracy_top-{k}': torch.tensor(a, device=cls_score.device)
                           for k, a in zip(self.topk, accs)})
        return losses

    def predict(self, feats: Feats,
                data_samples: Optional[List[ClsDataSample]] = None) -> List[ClsDataSample]:
        """Softmax scores and arg-max labels, written into (new) data samples."""
        scores = F.softmax(self(feats), dim=1).detach()
        labels = scores.argmax(dim=1)
        if data_samples is None:
            data_samples = [ClsDataSample() for _ in range(len(scores))]
        for sample, score, label in zip(data_samples, scores, labels):
            sample.set_pred_score(score).set_pred_label(label.reshape(1))
        return data_samples
