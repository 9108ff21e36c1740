"""muse_det.information: the information-theory core of muse-det, in PyTorch alone (no mm*).

Estimators of I(s; t) from critic scores and of H(s) from samples, critics, adapters, pair
sampling, the MUSE objective, and the pair losses (MUSE and the baselines) that the integration
layer wraps. Formulation: MUSE.md.

Contract notes for the integration layer (additions to the agreed interface, none removed):
- every pair loss: ``cls(student_channels, target_channels, *, loss_weight=1.0, num_samples=256,
  grid=None, pool=None, detach_target=True, generator=None, ...)``; ``forward(student, target)``
  returns ``{'loss': weighted scalar to minimise, **detached logs}``; MUSE logs 'mi', 'entropy'.
- extra keyword options: ``adapter='auto'|'mlp'|'linear'`` and ``adapter_hidden`` (losses with
  adapters), ``entropy_dim=32`` (MUSELoss: entropy on a fixed 32-d projection of z_s),
  ``symmetric`` (crd), ``init_var``/``eps`` (vid), ``p`` (at), ``degree``/``c`` (nst).
- ``entropy_weight=None`` means 0.1 for the additive variant; giving it with
  variant='multiplicative' raises (that J has no weight).
- multiplicative I+ = max(I - chance_level, 0) in value, with a straight-through gradient
  (see MUSEObjective), else an untrained critic would never receive a gradient.
- estimators/critics/adapters accept a name, ``dict(type=name, **kwargs)`` or a module.
- num_samples larger than the common grid raises ValueError (use num_samples='all' or a grid).
"""
from .adapters import ADAPTERS, LinearAdapter, MLPAdapter, build_adapter
from .checks import unknown_name_error
from .critics import CRITICS, ConcatCritic, SeparableCritic, build_critic
from .entropy import (ENTROPY_ESTIMATORS, CodingRateEntropy, EdgeworthEntropy, EntropyEstimator,
                      GaussianEntropy, KNNEntropy, build_entropy_estimator)
from .mutual_information import (MI_ESTIMATORS, DVEstimator, InfoNCEEstimator, JSDEstimator,
                                 MIEstimator, build_mi_estimator)
from .mutual_learning import mutual_learning_losses
from .objective import MUSEObjective
from .pair_losses import (PAIR_LOSSES, ATDistillLoss, CosineDistillLoss, CRDDistillLoss,
                          CriticPairLoss, L2DistillLoss, MUSELoss, NSTDistillLoss, PairLoss,
                          StudentAdaptedLoss, VIDDistillLoss, build_pair_loss)
from .sampling import PairSampler, align_maps, centred_window_mean

__all__ = [
    'MIEstimator', 'JSDEstimator', 'DVEstimator', 'InfoNCEEstimator', 'MI_ESTIMATORS',
    'build_mi_estimator',
    'EntropyEstimator', 'GaussianEntropy', 'CodingRateEntropy', 'KNNEntropy', 'EdgeworthEntropy',
    'ENTROPY_ESTIMATORS', 'build_entropy_estimator',
    'SeparableCritic', 'ConcatCritic', 'CRITICS', 'build_critic',
    'MLPAdapter', 'LinearAdapter', 'ADAPTERS', 'build_adapter',
    'PairSampler', 'align_maps', 'centred_window_mean', 'MUSEObjective', 'mutual_learning_losses',
    'PairLoss', 'StudentAdaptedLoss', 'CriticPairLoss', 'MUSELoss', 'L2DistillLoss',
    'ATDistillLoss', 'NSTDistillLoss', 'CosineDistillLoss', 'VIDDistillLoss', 'CRDDistillLoss',
    'PAIR_LOSSES', 'build_pair_loss', 'unknown_name_error',
]
