"""Gaussian (maximum-entropy) estimator of H(z)."""
import math
from typing import Optional

from torch import Tensor

from .base import EntropyEstimator, cholesky_logdet, shrunk_covariance


class GaussianEntropy(EntropyEstimator):
    """``H = 1/2 logdet(2 pi e (Sigma + eps * mean_var * I))``, Sigma the sample covariance.

    The largest entropy any distribution with covariance Sigma can have; exact for Gaussians,
    cheap (one d x d Cholesky, O(N d^2 + d^3)).
    ``normalize='standardize'`` (default): Sigma becomes the correlation matrix, H <= d/2 log(2 pi e)
    with equality when the dimensions are decorrelated -- scale-free, cannot be inflated by an
    adapter's gain. ``eps``: shrinkage relative to the mean variance. Why 1e-2: with N ~ d the
    smallest sample eigenvalues approach 0 and the gradient (Sigma + eps I)^{-1} z is dominated by
    noise directions ("whitens the batch", MUSE.md); eps bounds that amplification by 1/eps while
    biasing a well-conditioned estimate by only ~ d * eps / 2 nats.
    z [N, d] -> scalar.
    """

    normalize_options = ('standardize', None)

    def __init__(self, eps: float = 1e-2, normalize: Optional[str] = 'standardize'):
        super().__init__(normalize)
        if eps < 0:
            raise ValueError(f'eps must be >= 0, got {eps}')
        self.eps = float(eps)

    def estimate(self, z: Tensor) -> Tensor:
        d = z.shape[1]
        _, logdet = cholesky_logdet(shrunk_covariance(z - z.mean(dim=0), self.eps))
        return 0.5 * d * math.log(2 * math.pi * math.e) + 0.5 * logdet
