"""Bad input -> ValueError naming the problem (and, for names, the valid
options closest first)."""
import math

import pytest
import torch

from muse_det.information import (ATDistillLoss, GaussianEntropy,
                                  InfoNCEEstimator, L2DistillLoss, MUSELoss,
                                  MUSEObjective, NSTDistillLoss, PairSampler,
                                  build_critic, build_entropy_estimator,
                                  build_mi_estimator, build_pair_loss,
                                  unknown_name_error)


def maps(b_s=2, b_t=2):
    return torch.randn(b_s, 8, 8, 8), torch.randn(b_t, 16, 4, 4)


def nan_at(x, value):
    x = x.clone()
    x.view(-1)[3] = value
    return x


def call(loss, *args):
    return lambda: loss(*args)


S, T = maps()
CASES = {
    'wrong ndim': (call(MUSELoss(8, 16), torch.randn(2, 8, 8),
                        T), r'student must be \[B, C\]'),
    'batch mismatch': (call(MUSELoss(8, 16),
                            *maps(2, 3)), 'batch mismatch: student has 2'),
    'one sample':
    (call(L2DistillLoss(8, 16), torch.randn(1, 8),
          torch.randn(1, 16)), 'at least 2 are needed'),
    'nan student': (call(MUSELoss(8, 16), nan_at(S, math.nan),
                         T), 'student contains NaN'),
    'inf target': (call(MUSELoss(8, 16), S,
                        nan_at(T, math.inf)), 'target contains Inf'),
    'channels': (call(MUSELoss(4, 16), S,
                      T), 'student has 8 channels.*student_channels=8'),
    'img_shapes without strides':
    (call(MUSELoss(8, 16), S, T,
          [(8, 8), (8, 8)]), "img_shapes .* need the features' strides"),
    'img_shapes per image':
    (call(MUSELoss(8, 16, strides=(4, 4)), S, T,
          [(8, 8)]), 'img_shapes has 1 entries for a batch of 2'),
    'bad strides':
    (lambda: MUSELoss(8, 16, strides=(4, 0)), 'strides must be None or'),
    'at on vectors':
    (call(ATDistillLoss(8, 16), torch.randn(2, 8),
          torch.randn(2, 16)), "'at' loss compares spatial maps"),
    'nst on vectors':
    (call(NSTDistillLoss(8, 16), torch.randn(2, 8),
          torch.randn(2, 16)), "'nst' loss compares spatial maps"),
    'locations on vectors':
    (call(MUSELoss(8, 16, pool=False), torch.randn(2, 8),
          torch.randn(2, 16)), 'location sampling needs two'),
    'scores not a matrix': (lambda: InfoNCEEstimator()
                            (torch.randn(3)), r'\[N, M\] matrix'),
    'positives beyond the columns': (lambda: InfoNCEEstimator()
                                     (torch.randn(3, 4), 2),
                                     'offset 2 does not fit a 3x4'),
    'symmetric needs square': (lambda: InfoNCEEstimator(symmetric=True)
                               (torch.randn(3, 4), 1),
                               'symmetric InfoNCE needs the square'),
    'one score': (lambda: InfoNCEEstimator()
                  (torch.randn(1, 1)), 'at least 2 samples'),
    'one entropy sample': (lambda: GaussianEntropy()
                           (torch.randn(1, 4)), 'at least 2'),
    'negative weight': (lambda: MUSELoss(8, 16, loss_weight=-1.0),
                        'finite non-negative'),
    'non-numeric weight': (lambda: MUSELoss(8, 16, loss_weight='1'),
                           'must be a non-negative number'),
    'bool weight': (lambda: MUSELoss(8, 16, loss_weight=True),
                    'must be a non-negative number'),
    'nan weight': (lambda: MUSELoss(8, 16, loss_weight=math.nan),
                   'finite non-negative'),
    'weight for multiplicative':
    (lambda: MUSEObjective('multiplicative', entropy_weight=0.5),
     "variant='additive' only"),
    'unknown mi':
    (lambda: build_mi_estimator('infonc'),
     r"unknown MI estimator 'infonc'; valid options \(closest first\): "
     r"'infonce'"),
    'unknown entropy': (lambda: build_entropy_estimator('gauss'),
                        r"unknown entropy estimator 'gauss'.*: 'gaussian'"),
    'unknown variant':
    (lambda: MUSELoss(8, 16, variant='multiplicativ'),
     r"unknown MUSE variant 'multiplicativ'.*: 'multiplicative', 'additive'"),
    'unknown critic': (lambda: MUSELoss(8, 16, critic=dict(type='concatt')),
                       r"unknown critic 'concatt'.*: 'concat', 'separable'"),
    'unknown pair loss': (lambda: build_pair_loss('cosin', 8, 16),
                          r"unknown pair loss 'cosin'.*: 'cosine'"),
    'unknown normalize': (lambda: GaussianEntropy(normalize='l2'),
                          r"unknown normalize 'l2'"),
    'unknown sampling mode': (lambda: PairSampler(mode='grid'),
                              r"unknown sampling mode 'grid'"),
    'bad grid': (lambda: PairSampler(grid=(4, 0)), 'grid must be'),
    'bad pool': (lambda: MUSELoss(8, 16, pool='yes'), 'pool must be None'),
    'bad cfg': (lambda: build_critic(42, 4, 4),
                'must be a name, a dict with a "type" key'),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_bad_input_raises_value_error(case):
    fn, match = CASES[case]
    with pytest.raises(ValueError, match=match):
        fn()


def test_weight_changed_to_invalid_value_at_run_time():
    loss = MUSELoss(8, 16)
    loss.loss_weight = -0.5
    with pytest.raises(
            ValueError, match='loss_weight must be a finite non-negative'):
        loss(*maps())


def test_unknown_name_error_ranks_closest_first():
    err = unknown_name_error('thing', 'knm',
                             ['gaussian', 'coding_rate', 'knn', 'edgeworth'])
    assert str(err).startswith(
        "unknown thing 'knm'; valid options (closest first): 'knn'")
