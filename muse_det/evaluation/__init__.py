"""Classification metrics (detection metrics come from mmdet)."""
from .accuracy import Accuracy, topk_accuracy

__all__ = ['Accuracy', 'topk_accuracy']
from .faster_coco_metric import FasterCocoMetric  # noqa: F401 (COCO mAP with faster-coco-eval)
