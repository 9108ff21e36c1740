"""Predictions of several peers, and their ensemble, carried on
one data sample.

An online distiller that evaluates every peer returns the evaluated peer's data
samples as usual (so any metric sees exactly that peer) and adds a
``peer_predictions`` field holding the other peers' prediction fields and the
ensemble's, which :class:`~muse_det.evaluation.MUSEPeerEnsembleMetric`
evaluates.
"""
from typing import Dict, List, Optional

import torch
from mmcv.ops import batched_nms
from mmengine.structures import BaseDataElement, InstanceData

# The data-sample field of MUSEOnlineDistiller(eval_all_peers=True), and the
# ensemble's name inside it (the other peers are named peer<i>).
PEER_PREDICTIONS = 'peer_predictions'
ENSEMBLE = 'ensemble'


def prediction_fields(sample: BaseDataElement) -> Dict[str, object]:
    """The prediction fields of a data sample.

    Args:
        sample (BaseDataElement): one image's data sample after ``predict``.

    Returns:
        dict[str, object]: its ``pred_*`` fields (``pred_instances``,
        ``pred_score``, ``pred_label``, ...), by name.
    """
    return {k: v for k, v in sample.items() if k.startswith('pred_')}


def _ensemble_scores(scores: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Classification: the mean of the peers' class probabilities, its arg-max
    as the label."""
    score = torch.stack(scores).mean(dim=0)
    return dict(pred_score=score, pred_label=score.argmax().reshape(1))


def _ensemble_instances(instances: List[InstanceData], nms: dict,
                        max_per_img: int) -> InstanceData:
    """Detection: every peer's boxes pooled, then per-class NMS, best
    ``max_per_img`` kept."""
    merged = InstanceData.cat(instances)
    if len(merged) == 0:
        return merged
    dets, keep = batched_nms(merged.bboxes, merged.scores, merged.labels,
                             dict(nms))
    merged = merged[keep[:max_per_img]]
    merged.scores = dets[:max_per_img, -1]  # soft-NMS rescores
    return merged


def ensemble_predictions(per_peer: List[Dict[str, object]],
                         nms: Optional[dict] = None,
                         max_per_img: int = 100) -> Dict[str, object]:
    """Prediction fields of the peers' ensemble for one image.

    Classification (every peer has ``pred_score``): the mean of the peers'
    class probabilities, its arg-max as the label. Detection (every peer has
    ``pred_instances``): every peer's boxes pooled, then per-class NMS, the
    best ``max_per_img`` kept.

    Args:
        per_peer (list[dict[str, object]]): each peer's prediction fields
            for the image (:func:`prediction_fields`): ``pred_score`` of
            shape (num_classes,), or ``pred_instances`` with ``bboxes``
            (n, 4), ``scores`` (n,) and ``labels`` (n,).
        nms (dict, optional): the ``nms_cfg`` of mmcv's ``batched_nms``;
            None: ``dict(type='nms', iou_threshold=0.5)``. Defaults to None.
        max_per_img (int): boxes kept after NMS. Defaults to 100.

    Returns:
        dict[str, object]: ``pred_score`` (num_classes,) and ``pred_label``
        (1,), or ``pred_instances``; ``{}`` for prediction kinds without an
        ensemble rule (e.g. semantic maps).
    """
    if all('pred_score' in p for p in per_peer):
        return _ensemble_scores([p['pred_score'] for p in per_peer])
    if all('pred_instances' in p for p in per_peer):
        nms = nms or dict(type='nms', iou_threshold=0.5)
        return dict(
            pred_instances=_ensemble_instances(
                [p['pred_instances'] for p in per_peer], nms, max_per_img))
    return {}


def attach_peer_predictions(samples: list,
                            per_peer: List[List[Dict[str, object]]], main: int,
                            names: List[str], ensemble_cfg: dict) -> list:
    """Write peer ``main``'s predictions into ``samples`` and the others'
    (plus the ensemble's) into each sample's ``peer_predictions`` field.

    Args:
        samples (list[BaseDataElement]): the batch's data samples, one per
            image; changed in place.
        per_peer (list[list[dict[str, object]]]): per peer, per image, the
            prediction fields (:func:`prediction_fields`).
        main (int): index of the evaluated peer, whose fields are set on the
            samples themselves.
        names (list[str]): every peer's name (``'peer<i>'``), indexed like
            ``per_peer``.
        ensemble_cfg (dict): keyword arguments of
            :func:`ensemble_predictions` (``nms``, ``max_per_img``).

    Returns:
        list[BaseDataElement]: ``samples``; each one's ``peer_predictions``
        holds every other peer's fields under ``names[k]`` and, where an
        ensemble rule applies, the ensemble's under ``'ensemble'``.
    """
    for n, sample in enumerate(samples):
        fields = [peer[n] for peer in per_peer]
        for key, value in fields[main].items():
            sample.set_field(value, key)
        others = {
            names[k]: BaseDataElement(**f)
            for k, f in enumerate(fields) if k != main
        }
        ensemble = ensemble_predictions(fields, **ensemble_cfg)
        if ensemble:
            others[ENSEMBLE] = BaseDataElement(**ensemble)
        sample.set_field(BaseDataElement(**others), PEER_PREDICTIONS)
    return samples
