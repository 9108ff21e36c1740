"""Coding-rate entropy (rate-distortion, MCR^2: Yu et al. 2020)."""
from typing import Optional

import torch
from torch import Tensor

from .base import EntropyEstimator


class CodingRateEntropy(EntropyEstimator):
    """Coding rate R of the samples: nats to code them up to distortion eps.

    ``R = 1/2 logdet(I_d + d / (N eps^2) Z^T Z)``, Z (N, d) the centred
    samples. Nonnegative, 0 for a collapsed batch, growing with the rank
    (spread) of Z. With ``normalize='l2'`` the rows are also put on the unit
    sphere, so tr(Z^T Z) <= N and R <= d/2 log(1 + 1/eps^2): bounded and
    scale-free (R / d <= 0.80 nats for eps = 0.5). The identity term keeps
    the log-det well-conditioned at any N/d, unlike :class:`GaussianEntropy`.
    When d > N the equal N x N form ``1/2 logdet(I_N + d / (N eps^2) Z Z^T)``
    is used (Sylvester's determinant identity).

    Args:
        eps (float): distortion, > 0. Defaults to 0.5.
        normalize (str, optional): 'l2' (centre, then unit rows) or None
            (centre only). Defaults to 'l2'.
    """

    normalize_options = ('l2', None)

    def __init__(self, eps: float = 0.5, normalize: Optional[str] = 'l2'):
        super().__init__(normalize)
        if not eps > 0:
            raise ValueError(f'eps (distortion) must be > 0, got {eps}')
        self.eps = float(eps)

    def estimate(self, z: Tensor) -> Tensor:
        """Coding rate of the normalised samples.

        Args:
            z (Tensor): normalised samples, shape (N, d).

        Returns:
            Tensor: R in nats, scalar, >= 0.
        """
        n, d = z.shape
        # 'l2' already centred before normalising the rows
        if self.normalize is None:
            z = z - z.mean(dim=0)
        gram = z.t() @ z if d <= n else z @ z.t()
        eye = torch.eye(gram.shape[0], dtype=z.dtype, device=z.device)
        chol, _ = torch.linalg.cholesky_ex(eye + (d /
                                                  (n * self.eps**2)) * gram)
        return chol.diagonal().log().sum()  # 1/2 logdet = sum log diag(L)
