"""Kozachenko-Leonenko k-nearest-neighbour entropy estimator (Kraskov et al.
2004, eq. 20)."""
import math
from typing import Optional

import torch
from torch import Tensor

from .base import EntropyEstimator


class KNNEntropy(EntropyEstimator):
    """Kozachenko-Leonenko k-nearest-neighbour entropy estimate.

    ``H = psi(N) - psi(k) + log c_m + (m / N) sum_i log r_i``, r_i the
    Euclidean distance from z_i to its k-th nearest neighbour, c_m =
    pi^{m/2} / Gamma(m/2 + 1) the volume of the unit m-ball, m the dimension
    of the space the samples live in. Nonparametric (no Gaussian
    assumption), consistent, differentiable through r_i (the neighbour
    search itself carries no gradient); O(N^2 d). Duplicate samples (r = 0,
    e.g. several all-zero locations) are clamped to r = 1e-12: they pull the
    estimate down and pass no gradient.

    Args:
        k (int): which neighbour, >= 1; N must exceed k. Defaults to 3.
        normalize (str, optional): 'l2': samples are centred and put on the
            unit sphere S^{d-1}, a (d-1)-manifold, so m = d - 1 (chord ~
            geodesic distance at small r); the estimate tends to the entropy
            on the sphere, at most log area(S^{d-1}) (uniform), and is
            scale-free; needs d >= 2. None: m = d, the entropy of z in R^d.
            Defaults to 'l2'.
    """

    normalize_options = ('l2', None)

    def __init__(self, k: int = 3, normalize: Optional[str] = 'l2'):
        super().__init__(normalize)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f'k must be a positive integer, got {k!r}')
        self.k = k

    def estimate(self, z: Tensor) -> Tensor:
        """k-NN entropy of the normalised samples.

        Args:
            z (Tensor): normalised samples, shape (N, d), N > k.

        Returns:
            Tensor: H in nats, scalar.

        Raises:
            ValueError: if N <= k, or if d < 2 with ``normalize='l2'``.
        """
        n, d = z.shape
        if n <= self.k:
            raise ValueError(
                f'KNNEntropy(k={self.k}) needs more than k samples, got '
                f'N={n}; raise num_samples or lower k')
        m = d - 1 if self.normalize == 'l2' else d
        if m < 1:
            raise ValueError(
                "KNNEntropy(normalize='l2') needs d >= 2 (S^0 is two points)")
        # neighbour search only; distances are recomputed with gradient
        with torch.no_grad():
            dist = torch.cdist(z, z).fill_diagonal_(float('inf'))
            idx = dist.topk(self.k, dim=1, largest=False).indices[:, -1]
        # exact differences (not |a|^2 + |b|^2 - 2ab, which cancels
        # catastrophically in fp32)
        r = (z - z[idx]).norm(dim=1).clamp_min(1e-12)
        log_unit_ball = 0.5 * m * math.log(math.pi) - math.lgamma(0.5 * m + 1)
        psi = torch.special.digamma(
            torch.tensor([float(n), float(self.k)],
                         dtype=z.dtype,
                         device=z.device))
        return psi[0] - psi[1] + log_unit_ball + m * r.log().mean()
