"""muse_det.information: the information-theory core of muse-det, in
PyTorch alone (no mm*).

Estimators of I(s; t) from critic scores and of H(s) from samples, critics,
adapters, map alignment and pair sampling, the MUSE objective, and the pair
losses (MUSE and the baselines) that the integration layer wraps:
``cls(student_channels, target_channels, **options)``, ``forward(student,
target) -> {'loss': weighted scalar to minimise, **detached logs}``.
Formulation: docs/method.md.
"""
from .adapters import ADAPTERS, LinearAdapter, MLPAdapter, build_adapter
from .alignment import align_maps, centred_window_mean
from .critics import CRITICS, ConcatCritic, SeparableCritic, build_critic
from .entropy import (ENTROPY_ESTIMATORS, CodingRateEntropy, EdgeworthEntropy,
                      EntropyEstimator, GaussianEntropy, KNNEntropy,
                      build_entropy_estimator)
from .mutual_information import (MI_ESTIMATORS, DVEstimator, InfoNCEEstimator,
                                 JSDEstimator, MIEstimator, build_mi_estimator)
from .mutual_learning import mutual_learning_losses
from .objective import MUSEObjective
from .pair_losses import (PAIR_LOSSES, ATDistillLoss, CosineDistillLoss,
                          CRDDistillLoss, CriticPairLoss, L2DistillLoss,
                          MUSELoss, NSTDistillLoss, PairLoss,
                          StudentAdaptedLoss, VIDDistillLoss, build_pair_loss)
from .sampling import PairSampler
from .validation import unknown_name_error

__all__ = [
    'MIEstimator',
    'JSDEstimator',
    'DVEstimator',
    'InfoNCEEstimator',
    'MI_ESTIMATORS',
    'build_mi_estimator',
    'EntropyEstimator',
    'GaussianEntropy',
    'CodingRateEntropy',
    'KNNEntropy',
    'EdgeworthEntropy',
    'ENTROPY_ESTIMATORS',
    'build_entropy_estimator',
    'SeparableCritic',
    'ConcatCritic',
    'CRITICS',
    'build_critic',
    'MLPAdapter',
    'LinearAdapter',
    'ADAPTERS',
    'build_adapter',
    'PairSampler',
    'align_maps',
    'centred_window_mean',
    'MUSEObjective',
    'mutual_learning_losses',
    'PairLoss',
    'StudentAdaptedLoss',
    'CriticPairLoss',
    'MUSELoss',
    'L2DistillLoss',
    'ATDistillLoss',
    'NSTDistillLoss',
    'CosineDistillLoss',
    'VIDDistillLoss',
    'CRDDistillLoss',
    'PAIR_LOSSES',
    'build_pair_loss',
    'unknown_name_error',
]
