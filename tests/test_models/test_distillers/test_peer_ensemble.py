"""The detection ensemble of peers (pooled boxes, per-class NMS) and the peer
metric wrapper."""
import pytest
import torch
from mmengine.structures import InstanceData

from muse_det.models.distillers.peer_ensemble import ensemble_predictions


def instances(boxes, scores, labels):
    return InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        scores=torch.tensor(scores),
        labels=torch.tensor(labels))


def test_pooled_boxes_are_suppressed_per_class_and_capped():
    a = instances([[0, 0, 10, 10]], [0.9], [0])
    b = instances([[1, 1, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]],
                  [0.8, 0.7, 0.6], [0, 1, 0])
    out = ensemble_predictions(
        [dict(pred_instances=a),
         dict(pred_instances=b)])['pred_instances']
    # b's first box overlaps a's (IoU 0.81) in the same class: suppressed; the
    # other class and the distant box stay; sorted by score
    assert out.scores.tolist() == pytest.approx([0.9, 0.7, 0.6])
    assert out.labels.tolist() == [0, 1, 0]
    assert out.bboxes[1].tolist() == [0, 0, 10, 10]
    capped = ensemble_predictions(
        [dict(pred_instances=a),
         dict(pred_instances=b)], max_per_img=2)['pred_instances']
    assert capped.scores.tolist() == pytest.approx([0.9, 0.7])
    loose = ensemble_predictions(
        [dict(pred_instances=a),
         dict(pred_instances=b)],
        nms=dict(type='nms', iou_threshold=0.9))['pred_instances']
    assert len(loose) == 4  # IoU 0.81 < 0.9: nothing suppressed


def test_empty_predictions_and_class_scores():
    empty = instances(torch.zeros(0, 4).tolist(), [], [])
    empty.bboxes = empty.bboxes.reshape(0, 4)
    out = ensemble_predictions(
        [dict(pred_instances=empty),
         dict(pred_instances=empty)])
    assert len(out['pred_instances']) == 0
    cls = ensemble_predictions([
        dict(pred_score=torch.tensor([0.6, 0.4])),
        dict(pred_score=torch.tensor([0.0, 1.0]))
    ])
    assert cls['pred_score'].tolist() == pytest.approx([0.3, 0.7])
    assert cls['pred_label'].tolist() == [1]
    assert ensemble_predictions([dict(pred_sem_seg=1),
                                 dict(pred_sem_seg=2)]) == {}


def test_peer_metric_needs_a_metric_config():
    from muse_det.evaluation import MUSEPeerEnsembleMetric
    with pytest.raises(ValueError, match='needs `metric`'):
        MUSEPeerEnsembleMetric(metric='CocoMetric')
