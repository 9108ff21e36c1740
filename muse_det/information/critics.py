"""Critics T(z_s, z_t): score every student sample against every target sample.

Output ``scores[i, j] = T(z_s[i], z_t[j])`` of shape (N, M); M = N with the
positive pairs (joint P) on the diagonal, the rest negatives
(product of marginals Q); M > N when the targets of other ranks are appended as
extra negatives (positives then at a column offset). The MI estimators in
:mod:`.mutual_information` consume this matrix.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .name_table import build_from_table
from .validation import check_positive_int, check_samples


def _head(in_dim: int, out_dim: int, hidden: Optional[int]) -> nn.Module:
    if hidden is None:
        return nn.Linear(in_dim, out_dim)
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.ReLU(inplace=True),
        nn.Linear(hidden, out_dim))


def _check_inputs(z_s: Tensor, z_t: Tensor, dim_s: int, dim_t: int) -> None:
    check_samples(z_s, 'z_s')
    check_samples(z_t, 'z_t')
    if z_s.shape[0] > z_t.shape[0]:
        raise ValueError(
            f'z_s has {z_s.shape[0]} samples, z_t has {z_t.shape[0]}; '
            'positives are pairs (z_s[i], z_t[i]), so z_t needs at least as '
            'many (more: other ranks\' targets as extra negatives)')
    if z_s.shape[1] != dim_s or z_t.shape[1] != dim_t:
        raise ValueError(
            f'critic built for dims ({dim_s}, {dim_t}), got ({z_s.shape[1]}, '
            f'{z_t.shape[1]}); set dim_s/dim_t to the embedding sizes')


class SeparableCritic(nn.Module):
    """Separable critic ``T(z_s, z_t) = <f(z_s), g(z_t)> / tau``.

    All N x M scores in one (N, p) x (p, M) matmul: O(N M p) time, O(N M)
    memory. f, g: linear heads (or one-hidden-layer MLPs with ``hidden``) to
    ``proj_dim`` = p. With ``normalize=True`` the scores are cosines / tau in
    [-1/tau, 1/tau]: a critic cannot raise the DV/JSD estimate by merely
    scaling its heads, DV's exp stays tame, and tau alone sets the sharpness
    (tau=0.1 as in CRD/SimCLR). The cost is a ceiling: DV estimates cannot
    exceed 2/tau nats (far above the per-location MI that detection features
    carry), JSD estimates -2 softplus(-1/tau).

    ``proj_dim=None`` drops the heads: ``T = <z_s, z_t> / tau`` (normalised
    as above), no parameters. Behind an adapter of its own that ends in a
    Linear (:class:`MLPAdapter`) a linear head composes with that Linear into
    one linear map; behind a target adapter shared by several pairs, the
    head is each pair's own view of the shared embedding, which dropping it
    takes away (docs/method.md, "Cost").

    Args:
        dim_s (int): student embedding size.
        dim_t (int): target embedding size.
        proj_dim (int, optional): size p of the heads' outputs; None: no
            heads (f, g = identity; needs ``dim_s == dim_t``). Defaults to
            128.
        tau (float): temperature, > 0. Defaults to 0.1.
        normalize (bool): L2-normalise the heads' outputs; False gives an
            unbounded bilinear critic. Defaults to True.
        hidden (int, optional): hidden width of MLP heads; None: linear
            heads. Defaults to None.
    """

    def __init__(self,
                 dim_s: int,
                 dim_t: int,
                 proj_dim: Optional[int] = 128,
                 tau: float = 0.1,
                 normalize: bool = True,
                 hidden: Optional[int] = None):
        super().__init__()
        self.dim_s = check_positive_int(dim_s, 'dim_s')
        self.dim_t = check_positive_int(dim_t, 'dim_t')
        if not tau > 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = float(tau)
        self.normalize = bool(normalize)
        if proj_dim is None:
            if dim_s != dim_t:
                raise ValueError(
                    f'a critic without heads (proj_dim=None) scores z_s '
                    f'against z_t directly, so their sizes must match; got '
                    f'dim_s={dim_s}, dim_t={dim_t}: give proj_dim a size')
            if hidden is not None:
                raise ValueError(
                    f'hidden={hidden} sets the width of MLP heads, and '
                    'proj_dim=None has none: drop hidden or set proj_dim')
            self.f = self.g = nn.Identity()
        else:
            check_positive_int(proj_dim, 'proj_dim')
            self.f = _head(dim_s, proj_dim, hidden)
            self.g = _head(dim_t, proj_dim, hidden)

    def forward(self, z_s: Tensor, z_t: Tensor) -> Tensor:
        """Score every student sample against every target sample.

        Args:
            z_s (Tensor): student embeddings, shape (N, dim_s).
            z_t (Tensor): target embeddings, shape (M, dim_t), M >= N; row i
                is z_s[i]'s positive, rows beyond N extra negatives.

        Returns:
            Tensor: scores ``T(z_s[i], z_t[j])``, shape (N, M).
        """
        _check_inputs(z_s, z_t, self.dim_s, self.dim_t)
        u, v = self.f(z_s), self.g(z_t)
        if self.normalize:
            u, v = F.normalize(u, dim=1), F.normalize(v, dim=1)
        return u @ v.t() / self.tau


class ConcatCritic(nn.Module):
    """Concatenation critic ``T(z_s, z_t) = w^T relu(A z_s + B z_t + b) + c``.

    An MLP on [z_s, z_t], evaluated for all N x M pairs without
    materialising the (N M, dim_s + dim_t) concatenation: the first layer
    splits as A z_s_i + B z_t_j, so only the (N, M, hidden) activation is
    built. More expressive than :class:`SeparableCritic` (it can represent
    the quadratic log density ratio of Gaussians), but O(N M hidden) time
    and memory: at N = M = 4096, hidden=256 the fp32 activation alone is
    17 GB.

    Args:
        dim_s (int): student embedding size.
        dim_t (int): target embedding size.
        hidden (int): hidden width. Defaults to 256.
        chunk_size (int, optional): process this many rows at a time under
            activation checkpointing, trading a second forward for
            O(chunk_size M hidden) memory; None: all rows at once. Defaults
            to None.
    """

    def __init__(self,
                 dim_s: int,
                 dim_t: int,
                 hidden: int = 256,
                 chunk_size: Optional[int] = None):
        super().__init__()
        self.dim_s = check_positive_int(dim_s, 'dim_s')
        self.dim_t = check_positive_int(dim_t, 'dim_t')
        check_positive_int(hidden, 'hidden')
        self.chunk_size = (None if chunk_size is None else check_positive_int(
            chunk_size, 'chunk_size'))
        # carries the first-layer bias
        self.a = nn.Linear(dim_s, hidden)
        self.b = nn.Linear(dim_t, hidden, bias=False)
        self.out = nn.Linear(hidden, 1)

    def _rows(self, hs: Tensor, ht: Tensor) -> Tensor:
        return self.out(torch.relu(hs[:, None, :] +
                                   ht[None, :, :])).squeeze(-1)

    def forward(self, z_s: Tensor, z_t: Tensor) -> Tensor:
        """Score every student sample against every target sample.

        Args:
            z_s (Tensor): student embeddings, shape (N, dim_s).
            z_t (Tensor): target embeddings, shape (M, dim_t), M >= N; row i
                is z_s[i]'s positive, rows beyond N extra negatives.

        Returns:
            Tensor: scores ``T(z_s[i], z_t[j])``, shape (N, M).
        """
        _check_inputs(z_s, z_t, self.dim_s, self.dim_t)
        hs, ht = self.a(z_s), self.b(z_t)
        if self.chunk_size is None or self.chunk_size >= hs.shape[0]:
            return self._rows(hs, ht)
        return torch.cat([
            checkpoint(self._rows, chunk, ht, use_reentrant=False)
            for chunk in hs.split(self.chunk_size)
        ])


CRITICS = {'separable': SeparableCritic, 'concat': ConcatCritic}


def build_critic(cfg='separable',
                 dim_s: int = None,
                 dim_t: int = None,
                 **kwargs) -> nn.Module:
    """Build a critic from a name, a config dict or a module.

    ``build_critic('separable', 128, 128, tau=0.2)`` or
    ``build_critic(dict(type='concat', hidden=64), 128, 128)``.

    Args:
        cfg (str | dict | nn.Module): a key of :data:`CRITICS` ('separable',
            'concat'), a ``dict(type=name, **kwargs)``, or a ready module
            (returned as is). Defaults to 'separable'.
        dim_s (int): student embedding size.
        dim_t (int): target embedding size.
        **kwargs: further constructor arguments; the keys of a dict ``cfg``
            win over them and over the dimensions.

    Returns:
        nn.Module: the critic, (z_s (N, dim_s), z_t (M, dim_t)) -> scores
        (N, M).
    """
    return build_from_table(
        'critic', cfg, CRITICS, dim_s=dim_s, dim_t=dim_t, **kwargs)
