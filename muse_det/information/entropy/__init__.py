"""Differentiable estimators of the self-information H(z):
``forward(z [N, d]) -> scalar nats``."""
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
    """``build_entropy_estimator('knn', k=5)`` or
    ``build_entropy_estimator(dict(type='knn'))``."""
    return build_from_table('entropy estimator', cfg, ENTROPY_ESTIMATORS,
                            **kwargs)


__all__ = [
    'EntropyEstimator', 'GaussianEntropy', 'CodingRateEntropy', 'KNNEntropy',
    'EdgeworthEntropy', 'ENTROPY_ESTIMATORS', 'build_entropy_estimator'
]
