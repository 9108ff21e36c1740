"""mmpretrain's Accuracy, as the classification configs and
MUSEPeerEnsembleMetric use it: golden values, key names, label-only
predictions."""
import pytest
import torch

SCORES = torch.tensor([
    [0.1, 0.6, 0.1, 0.1, 0.05, 0.05],  # gt 1: top1 hit
    # gt 2: 2nd best -> top5 hit
    [0.5, 0.1, 0.2, 0.1, 0.05, 0.05],
    [0.1, 0.1, 0.1, 0.1, 0.1, 0.5],  # gt 5: top1 hit
    # gt 5: last -> miss
    [0.3, 0.25, 0.2, 0.15, 0.08, 0.02]
])
LABELS = torch.tensor([1, 2, 5, 5])


def _samples(with_scores=True):
    from mmpretrain.structures import DataSample
    out = []
    for score, label in zip(SCORES, LABELS):
        s = DataSample().set_gt_label(int(label)).set_pred_label(
            score.argmax())
        if with_scores:
            s.set_pred_score(score)
        out.append(s.to_dict())
    return out


def _metric(**kwargs):
    from mmengine.registry import METRICS, init_default_scope

    import muse_det  # noqa: F401
    init_default_scope('mmpretrain')
    return METRICS.build(dict(type='Accuracy', **kwargs))


def test_topk_golden_values():
    from mmpretrain.evaluation import Accuracy
    accs = Accuracy.calculate(SCORES, LABELS, topk=(1, 2, 5, 6))
    assert [a[0].item() for a in accs] == [50.0, 75.0, 75.0, 100.0]
    with pytest.raises(ValueError, match='Top-7 accuracy is unavailable'):
        Accuracy.calculate(SCORES, LABELS, topk=(7, ))


def test_metric_keys_and_values():
    metric = _metric(topk=(1, 5))
    assert type(metric).__module__.startswith('mmpretrain.')
    metric.process({}, _samples()[:2])
    metric.process({}, _samples()[2:])
    assert metric.evaluate(4) == {'accuracy/top1': 50.0, 'accuracy/top5': 75.0}


def test_labels_only_give_top1():
    metric = _metric()
    metric.process({}, _samples(with_scores=False))
    assert metric.evaluate(4) == {'accuracy/top1': 50.0}
    metric = _metric(topk=(1, 5))  # without scores only top-1 can be computed
    metric.process({}, _samples(with_scores=False))
    assert metric.evaluate(4) == {'accuracy/top1': 50.0}
    metric = _metric(topk=(1, 7))
    metric.process({}, _samples())
    with pytest.raises(ValueError, match='Top-7 accuracy is unavailable'):
        metric.evaluate(4)
