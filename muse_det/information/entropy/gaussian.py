"""Gaussian (maximum-entropy) estimator of H(z)."""
import math
from typing import Optional, Tuple

from torch import Tensor

from .base import EntropyEstimator, cholesky_logdet, shrunk_covariance


class GaussianEntropy(EntropyEstimator):
    """Gaussian (maximum-entropy) estimate of H(z).

    ``H = 1/2 logdet(2 pi e (Sigma + eps * mean_var * I))``, Sigma the sample
    covariance: the largest entropy any distribution with covariance Sigma
    can have, exact for Gaussians; cheap (one d x d Cholesky,
    O(N d^2 + d^3)). With ``normalize='standardize'`` Sigma is the
    correlation matrix, so H <= d/2 log(2 pi e), with equality when the
    dimensions are decorrelated: scale-free, so a layer's gain cannot inflate
    it.

    Args:
        eps (float): shrinkage relative to the mean variance (scale-free),
            >= 0. It keeps N <= d finite and biases a well-conditioned
            estimate by about d * eps / 2 nats; the sample ratio N/d matters
            more than eps (hence ``MUSELoss``'s ``entropy_dim``; why:
            docs/method.md, "Defaults, and why"). Defaults to 1e-2.
        normalize (str, optional): 'standardize' or None (the entropy of z
            itself). Defaults to 'standardize'.
    """

    normalize_options = ('standardize', None)

    def __init__(self,
                 eps: float = 1e-2,
                 normalize: Optional[str] = 'standardize'):
        super().__init__(normalize)
        if eps < 0:
            raise ValueError(f'eps must be >= 0, got {eps}')
        self.eps = float(eps)

    def gaussian_part(self, z: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """The Gaussian computation, shared with the Edgeworth estimator.

        Args:
            z (Tensor): normalised samples, shape (N, d).

        Returns:
            tuple[Tensor, Tensor, Tensor]: the centred samples, shape (N, d);
            the lower Cholesky factor L of the shrunk covariance, shape
            (d, d); the Gaussian entropy in nats (scalar).
        """
        zc = z - z.mean(dim=0)
        chol, logdet = cholesky_logdet(shrunk_covariance(zc, self.eps))
        return zc, chol, 0.5 * z.shape[1] * math.log(
            2 * math.pi * math.e) + 0.5 * logdet

    def estimate(self, z: Tensor) -> Tensor:
        """Gaussian entropy of the normalised samples.

        Args:
            z (Tensor): normalised samples, shape (N, d).

        Returns:
            Tensor: H in nats, scalar.
        """
        return self.gaussian_part(z)[2]
