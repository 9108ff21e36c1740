"""Shared plumbing of the entropy estimators: validation, the fp32 island,
scale-free views."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..precision import fp32
from ..validation import check_choice, check_samples


def standardize(z: Tensor) -> Tensor:
    """Standardise each dimension: zero mean, unit (unbiased) variance.

    The covariance becomes the correlation matrix, so a Gaussian-type entropy
    no longer sees the scale of each dimension.

    Args:
        z (Tensor): samples, shape (N, d), N >= 2.

    Returns:
        Tensor: standardised samples, shape (N, d).
    """
    zc = z - z.mean(dim=0)
    return zc / zc.pow(2).sum(dim=0).div(z.shape[0] - 1).add(1e-12).sqrt()


def center_l2(z: Tensor) -> Tensor:
    """Centre the samples, then put each one on the unit sphere S^{d-1}.

    Centring first keeps the estimate translation-invariant (as entropy is)
    and maps a collapsed batch to zeros.

    Args:
        z (Tensor): samples, shape (N, d).

    Returns:
        Tensor: unit-norm rows (a zero row stays zero), shape (N, d).
    """
    return F.normalize(z - z.mean(dim=0), dim=1)


NORMALIZERS = {'standardize': standardize, 'l2': center_l2}


def shrunk_covariance(zc: Tensor, eps: float) -> Tensor:
    """Sample covariance of centred samples, shrunk towards the identity.

    ``cov = zc^T zc / (N - 1) + eps * mean(diag) * I``. The shrinkage is
    relative to the mean variance, so the estimate stays scale-equivariant:
    scaling z by a shifts the raw entropy by exactly d log|a|.

    Args:
        zc (Tensor): centred samples, shape (N, d).
        eps (float): shrinkage relative to the mean variance; 0 disables it.

    Returns:
        Tensor: the covariance, shape (d, d).
    """
    n, d = zc.shape
    cov = zc.t() @ zc / (n - 1)
    if eps:
        cov = cov + (eps * cov.diagonal().mean()) * torch.eye(
            d, dtype=cov.dtype, device=cov.device)
    return cov


def cholesky_logdet(matrix: Tensor) -> Tuple[Tensor, Tensor]:
    """Cholesky factor and log-determinant of an SPD matrix.

    ``log det = 2 sum_i log L_ii``. ``cholesky_ex`` does not sync the device
    to check success: a singular matrix (eps=0 on a rank-deficient batch)
    yields NaN/-inf, not an exception.

    Args:
        matrix (Tensor): symmetric positive-definite matrix, shape (d, d).

    Returns:
        tuple[Tensor, Tensor]: the lower-triangular L with
        ``matrix = L L^T``, shape (d, d), and the log-determinant (scalar).
    """
    chol, _ = torch.linalg.cholesky_ex(matrix)
    return chol, 2.0 * chol.diagonal().log().sum()


class EntropyEstimator(nn.Module):
    """Base class of the differential-entropy estimators.

    ``forward(z)`` checks the samples, computes in fp32 (autocast off),
    applies the ``normalize`` view and calls :meth:`estimate`, which
    subclasses implement.

    ``normalize`` picks a scale-free view of z: a trainable layer could raise
    a raw entropy forever by scaling its features, so the objective measures
    it on standardised or unit-norm samples (why: docs/method.md,
    "Scale-free").

    Args:
        normalize (str, optional): the view the entropy is measured on, one
            of the class's ``normalize_options``: 'standardize'
            (:func:`standardize`), 'l2' (:func:`center_l2`), or None (z
            itself, for closed-form checks). Defaults to None.
    """

    normalize_options: Tuple[Optional[str], ...] = (None, )

    def __init__(self, normalize: Optional[str] = None):
        super().__init__()
        self.normalize = check_choice('normalize', normalize,
                                      self.normalize_options)

    def forward(self, z: Tensor) -> Tensor:
        """Estimate the differential entropy of the samples ``z``.

        Args:
            z (Tensor): samples, shape (N, d), N >= 2; any floating dtype
                (computed in fp32).

        Returns:
            Tensor: the entropy estimate in nats, scalar, fp32.
        """
        return self._forward(check_samples(z, 'z'))

    @fp32
    def _forward(self, z: Tensor) -> Tensor:
        if self.normalize is not None:
            z = NORMALIZERS[self.normalize](z)
        return self.estimate(z)

    def estimate(self, z: Tensor) -> Tensor:  # pragma: no cover - abstract
        """The estimator proper, on the normalised fp32 samples.

        Args:
            z (Tensor): the ``normalize`` view of the samples, shape (N, d).

        Returns:
            Tensor: the entropy estimate in nats, scalar.
        """
        raise NotImplementedError
