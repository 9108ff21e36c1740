"""Accuracy metric: golden values, mmpretrain's key names, label-only predictions."""
import pytest
import torch

from muse_det.evaluation import Accuracy, topk_accuracy
from muse_det.structures import ClsDataSample

SCORES = torch.tensor([[0.1, 0.6, 0.1, 0.1, 0.05, 0.05],   # gt 1: top1 hit
                       [0.5, 0.1, 0.2, 0.1, 0.05, 0.05],   # gt 2: 2nd best -> top5 hit
                       [0.1, 0.1, 0.1, 0.1, 0.1, 0.5],     # gt 5: top1 hit
                       [0.3, 0.25, 0.2, 0.15, 0.08, 0.02]])  # gt 5: last -> miss
LABELS = torch.tensor([1, 2, 5, 5])


def _samples(with_scores=True):
    out = []
    for score, label in zip(SCORES, LABELS):
        s = ClsDataSample().set_gt_label(int(label)).set_pred_label(score.argmax())
        if with_scores:
            s.set_pred_score(score)
        out.append(s.to_dict())
    return out


def test_topk_golden_values():
    assert topk_accuracy(SCORES, LABELS, (1, 2, 5, 6)) == [50.0, 75.0, 75.0, 100.0]
    with pytest.raises(ValueError, match='top-7 accuracy needs at least 7 classes'):
        topk_accuracy(SCORES, LABELS, (7,))


def test_metric_keys_and_values_as_mmpretrain():
    import muse_det  # noqa: F401
    from muse_det.registry import METRICS
    metric = METRICS.build(dict(type='Accuracy', topk=(1, 5)))
    metric.process({}, _samples()[:2])
    metric.process({}, _samples()[2:])
    assert metric.evaluate(4) == {'accuracy/top1': 50.0, 'accuracy/top5': 75.0}


def test_labels_only_give_top1():
    metric = Accuracy()
    metric.process({}, _samples(with_scores=False))
    assert metric.evaluate(4) == {'accuracy/top1': 50.0}
    metric = Accuracy(topk=(1, 5))
    metric.process({}, _samples(with_scores=False))
    with pytest.raises(ValueError, match='needs pred_score'):
        metric.evaluate(4)
    with pytest.raises(ValueError, match='topk must be positive'):
        Accuracy(topk=(0,))
