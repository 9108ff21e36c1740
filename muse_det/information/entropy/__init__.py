"""Differentiable estimators of the self-information H(z).

Every estimator maps samples ``z`` of shape (N, d) to a scalar estimate in
nats, computed in fp32: ``forward(z) -> H``.
"""
from ..name_table import build_from_table
from .base import EntropyEstimator
from .coding_rate import CodingRateEntropy
from .edgeworth import EdgeworthEntropy
from .gaussian import GaussianEntropy
from .knn import KNNEntropy

ENTROPY_ESTIMATORS = {
    'gaussian': GaussianEntropy,
    'coding_rate': CodingRateEntropy,
    'knn': KNNEntropy,
    'edgeworth': EdgeworthEntropy
}


def build_entropy_estimator(cfg='gaussian', **kwargs) -> EntropyEstimator:
    """Build an entropy estimator from a name, a config dict or a module.

    ``build_entropy_estimator('knn', k=5)`` or
    ``build_entropy_estimator(dict(type='knn', k=5))``.

    Args:
        cfg (str | dict | nn.Module): a key of :data:`ENTROPY_ESTIMATORS`
            ('gaussian', 'coding_rate', 'knn', 'edgeworth'), a
            ``dict(type=name, **kwargs)``, or a ready module (returned as
            is). Defaults to 'gaussian'.
        **kwargs: constructor arguments; the keys of a dict ``cfg`` win
            over them.

    Returns:
        EntropyEstimator: the estimator.
    """
    return build_from_table('entropy estimator', cfg, ENTROPY_ESTIMATORS,
                            **kwargs)


__all__ = [
    'EntropyEstimator', 'GaussianEntropy', 'CodingRateEntropy', 'KNNEntropy',
    'EdgeworthEntropy', 'ENTROPY_ESTIMATORS', 'build_entropy_estimator'
]
