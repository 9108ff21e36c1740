"""Metrics registered in mmdet's METRICS: classification top-k ``Accuracy``, and
``FasterCocoMetric`` (COCO mAP with faster-coco-eval)."""
from .accuracy import Accuracy, topk_accuracy

__all__ = ['Accuracy', 'topk_accuracy']
from .faster_coco_metric import FasterCocoMetric  # noqa: F401 (COCO mAP with faster-coco-eval)
