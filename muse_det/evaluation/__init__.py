"""Metrics registered in mmdet's METRICS: classification top-k ``Accuracy``, and
``FasterCocoMetric`` (COCO mAP with faster-coco-eval), ``PeerEnsembleMetric`` (every peer of an
online distiller and their ensemble)."""
from .accuracy import Accuracy, topk_accuracy
from .peer_ensemble_metric import PeerEnsembleMetric

__all__ = ['Accuracy', 'topk_accuracy', 'PeerEnsembleMetric']
from .faster_coco_metric import FasterCocoMetric  # noqa: F401 (COCO mAP with faster-coco-eval)
