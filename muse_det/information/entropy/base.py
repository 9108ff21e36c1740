"""Shared plumbing of the entropy estimators: validation, the fp32 island,
scale-free views."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..precision import fp32
from ..validation import check_choice, check_samples


def standardize(z: Tensor) -> Tensor:
    """Zero mean, unit (unbiased) variance per dimension: the covariance
    becomes the correlation matrix, so a Gaussian-type entropy no longer sees
    the scale of each dimension."""
    zc = z - z.mean(dim=0)
    return zc / zc.pow(2).sum(dim=0).div(z.shape[0] - 1).add(1e-12).sqrt()


def center_l2(z: Tensor) -> Tensor:
    """Centre, then put every sample on the unit sphere S^{d-1}. Centring first
    keeps the estimate translation-invariant (as entropy is) and means a
    collapsed batch maps to zeros."""
    return F.normalize(z - z.mean(dim=0), dim=1)


NORMALIZERS = {'standardize': standardize, 'l2': center_l2}


def shrunk_covariance(zc: Tensor, eps: float) -> Tensor:
    """Sample covariance of centred ``zc`` [N, d] (denominator N-1), shrunk
    towards the identity by ``eps`` times the mean variance. Relative shrinkage
    keeps the estimate scale-equivariant: the raw entropy still shifts by
    exactly d log|a| when z is scaled by a."""
    n, d = zc.shape
    cov = zc.t() @ zc / (n - 1)
    if eps:
        cov = cov + (eps * cov.diagonal().mean()) * torch.eye(
            d, dtype=cov.dtype, device=cov.device)
    return cov


def cholesky_logdet(matrix: Tensor) -> Tuple[Tensor, Tensor]:
    """(L, log det) of an SPD matrix. ``cholesky_ex`` does not sync the device
    to check success; a singular matrix (eps=0 on a rank-deficient batch)
    yields NaN/-inf, not an exception."""
    chol, _ = torch.linalg.cholesky_ex(matrix)
    return chol, 2.0 * chol.diagonal().log().sum()


class EntropyEstimator(nn.Module):
    """Base: ``forward(z [N, d]) -> scalar`` differential-entropy estimate
    in nats, in fp32.

    ``normalize`` picks a scale-free view of z (docs/method.md, "Scale-free"):
    with a learnable adapter in front, a raw entropy can be raised forever by
    scaling the embedding, so the objective measures it on standardised or
    unit-norm samples. ``normalize=None`` estimates the entropy of z itself
    (for closed-form checks).
    """

    normalize_options: Tuple[Optional[str], ...] = (None, )

    def __init__(self, normalize: Optional[str] = None):
        super().__init__()
        self.normalize = check_choice('normalize', normalize,
                                      self.normalize_options)

    def forward(self, z: Tensor) -> Tensor:
        return self._forward(check_samples(z, 'z'))

    @fp32
    def _forward(self, z: Tensor) -> Tensor:
        if self.normalize is not None:
            z = NORMALIZERS[self.normalize](z)
        return self.estimate(z)

    def estimate(self, z: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError
