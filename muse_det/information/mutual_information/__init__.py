"""Estimators of I(s; t) from a critic score matrix.

``forward(scores, offset=0) -> scalar``: ``scores`` of shape (N, M), row i's
positive at column ``offset + i`` (the diagonal when square), computed in
fp32.
"""
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
    """Build an MI estimator from a name, a config dict or a module.

    ``build_mi_estimator('dv', ema_momentum=0.99)`` or
    ``build_mi_estimator(dict(type='dv', ema_momentum=0.99))``.

    Args:
        cfg (str | dict | nn.Module): a key of :data:`MI_ESTIMATORS`
            ('jsd', 'dv', 'infonce'), a ``dict(type=name, **kwargs)``, or a
            ready module (returned as is). Defaults to 'jsd'.
        **kwargs: constructor arguments; the keys of a dict ``cfg`` win
            over them.

    Returns:
        MIEstimator: the estimator.
    """
    return build_from_table('MI estimator', cfg, MI_ESTIMATORS, **kwargs)


__all__ = [
    'MIEstimator', 'JSDEstimator', 'DVEstimator', 'InfoNCEEstimator',
    'MI_ESTIMATORS', 'build_mi_estimator'
]
