"""Estimators of I(s; t) from a critic score matrix:
``forward(scores [N, N]) -> scalar nats``."""
from ..name_table import build_from_table
from .base import MIEstimator
from .dv import DVEstimator
from .infonce import InfoNCEEstimator
from .jsd import JSDEstimator

MI_ESTIMATORS = {
    'jsd': JSDEstimator,
    'dv': DVEstimator,
    'infonce': InfoNCEEstimator
}


def build_mi_estimator(cfg='jsd', **kwargs) -> MIEstimator:
    """``build_mi_estimator('dv', ema_momentum=0.99)`` or
    ``build_mi_estimator(dict(type='dv'))`` (a module is returned as is)."""
    return build_from_table('MI estimator', cfg, MI_ESTIMATORS, **kwargs)


__all__ = [
    'MIEstimator', 'JSDEstimator', 'DVEstimator', 'InfoNCEEstimator',
    'MI_ESTIMATORS', 'build_mi_estimator'
]
