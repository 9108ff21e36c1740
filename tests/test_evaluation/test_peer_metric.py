"""MUSEPeerEnsembleMetric (wrapping mmpretrain's Accuracy) with predictions the
test controls: which peer gets which key, K = 3, swapped evaluated peer,
options forwarded to the wrapped metric, one output file per peer."""
import os.path as osp
import pickle

import pytest
import torch

from muse_det.models.distillers.peer_ensemble import attach_peer_predictions

LABELS = [0, 1, 2, 3]


def _score(label, right):
    """0.75 on the label (0.25 on the next class) when right, else 0.6 on
    the next class."""
    s = torch.zeros(4)
    s[label], s[(label + 1) % 4] = (0.75, 0.25) if right else (0.4, 0.6)
    return s


# peer k is right on the first k + 1 images: top-1 25 / 50 / 75 %,
# top-2 always 100 %
SCORES = [[_score(y, n <= k) for n, y in enumerate(LABELS)] for k in range(3)]


def batch(main: int):
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(y) for y in LABELS]
    per_peer = [[
        dict(pred_score=s, pred_label=s.argmax().reshape(1)) for s in peer
    ] for peer in SCORES]
    out = attach_peer_predictions(samples, per_peer, main,
                                  ['peer0', 'peer1', 'peer2'], {})
    # what mmengine's Evaluator hands to metrics
    return [s.to_dict() for s in out]


def evaluate(metric_cfg, main, **kwargs):
    from muse_det.registry import METRICS
    metric = METRICS.build(
        dict(type='MUSEPeerEnsembleMetric', metric=metric_cfg, **kwargs))
    metric.dataset_meta = {}
    metric.process({}, batch(main))
    return metric.evaluate(len(LABELS))


@pytest.fixture(autouse=True)
def _scope():
    from mmengine.registry import init_default_scope

    import muse_det  # noqa: F401
    init_default_scope('mmpretrain')


def test_three_peers_and_the_ensemble_get_their_own_keys():
    from mmpretrain.evaluation import Accuracy

    from muse_det.registry import METRICS
    wrapper = METRICS.build(
        dict(type='MUSEPeerEnsembleMetric', metric=dict(type='Accuracy')))
    assert type(wrapper.metrics['']) is Accuracy  # the default scope's metric
    m = evaluate(dict(type='Accuracy'), main=0)
    # ensemble, mean probability of the label on images 0..3: 0.75,
    # 0.633, 0.517, 0.4
    assert m == {
        'accuracy/top1': 25.0,
        'peer1/accuracy/top1': 50.0,
        'peer2/accuracy/top1': 75.0,
        'ensemble/accuracy/top1': 75.0
    }
    swapped = evaluate(dict(type='Accuracy'), main=2)
    assert swapped['accuracy/top1'] == 75.0 and swapped[
        'peer0/accuracy/top1'] == 25.0
    assert swapped['ensemble/accuracy/top1'] == m['ensemble/accuracy/top1']


def test_options_reach_the_wrapped_metric():
    m = evaluate(dict(type='Accuracy'), main=1, topk=(1, 2))
    assert m['accuracy/top2'] == 100.0 and m['peer2/accuracy/top2'] == 100.0


def test_every_peer_writes_its_own_output_file(tmp_path):
    out = str(tmp_path / 'preds.pkl')
    evaluate(dict(type='DumpResults', out_file_path=out), main=0)
    for name, peer in (('preds.pkl', 0), ('preds_peer1.pkl', 1),
                       ('preds_peer2.pkl', 2)):
        with open(osp.join(tmp_path, name), 'rb') as f:
            rows = pickle.load(f)
        assert [r['pred_score'].argmax().item() for r in rows] == \
            [s.argmax().item() for s in SCORES[peer]], name
    assert osp.isfile(tmp_path / 'preds_ensemble.pkl')


def test_samples_without_peer_predictions_report_the_metric_alone():
    from mmpretrain.structures import DataSample

    from muse_det.registry import METRICS
    metric = METRICS.build(
        dict(type='MUSEPeerEnsembleMetric', metric=dict(type='Accuracy')))
    metric.dataset_meta = {}
    sample = DataSample().set_gt_label(1).set_pred_score(
        torch.tensor([0.2, 0.8]))
    metric.process({}, [sample.to_dict()])
    assert metric.evaluate(1) == {'accuracy/top1': 100.0}
