"""Metrics: ``MUSEPeerEnsembleMetric`` (every peer of an online distiller
and their ensemble, with any wrapped metric: mmdet's ``CocoMetric``,
mmpretrain's ``Accuracy``, ...) and ``MUSEFasterCocoMetric`` (COCO mAP
with faster-coco-eval)."""
from .faster_coco_metric import MUSEFasterCocoMetric
from .peer_ensemble_metric import MUSEPeerEnsembleMetric

__all__ = ['MUSEFasterCocoMetric', 'MUSEPeerEnsembleMetric']
