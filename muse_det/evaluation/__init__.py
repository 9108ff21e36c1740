"""Metrics: ``PeerEnsembleMetric`` (every peer of an online distiller
and their ensemble, with any wrapped metric: mmdet's ``CocoMetric``,
mmpretrain's ``Accuracy``, ...) and ``FasterCocoMetric`` (COCO mAP
with faster-coco-eval)."""
from .faster_coco_metric import FasterCocoMetric
from .peer_ensemble_metric import PeerEnsembleMetric

__all__ = ['FasterCocoMetric', 'PeerEnsembleMetric']
