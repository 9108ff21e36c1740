"""Adapters: learnable maps from a layer's channels to the common
embedding z in R^d."""
from typing import Optional

from torch import Tensor, nn

from .name_table import build_from_table
from .validation import check_positive_int


class _VectorAdapter(nn.Sequential):
    """A stack of layers on sample vectors [N, in_dim] -> [N, out_dim], with
    a shape check."""

    def __init__(self, in_dim: int, out_dim: int, *layers: nn.Module):
        super().__init__(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(
                f'{type(self).__name__} expects [N, {self.in_dim}], got '
                f'{tuple(x.shape)}; set in_dim to the layer\'s channel count')
        return super().forward(x)


class MLPAdapter(_VectorAdapter):
    """``Linear -> BatchNorm1d -> ReLU -> Linear`` on sampled feature vectors:
    [N, in] -> [N, out].

    This is MUSE's ``1x1 conv -> BN -> ReLU -> 1x1 conv`` map adapter evaluated
    only at the sampled locations: a 1x1 conv *is* a per-location Linear, so
    the outputs at those locations are the same, at num_samples / (H W) of the
    cost. One difference: BatchNorm's training statistics come from the N
    sampled locations instead of all B*H*W (an unbiased subsample of them).
    ``hidden`` defaults to ``out_dim``; the first Linear has no bias
    (BN removes it anyway).
    """

    def __init__(self,
                 in_dim: int,
                 out_dim: int = 128,
                 hidden: Optional[int] = None):
        check_positive_int(in_dim, 'in_dim')
        check_positive_int(out_dim, 'out_dim')
        hidden = out_dim if hidden is None else check_positive_int(
            hidden, 'hidden')
        super().__init__(in_dim, out_dim,
                         nn.Linear(in_dim, hidden, bias=False),
                         nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, out_dim))


class LinearAdapter(_VectorAdapter):
    """``Linear``: [N, in] -> [N, out]; MUSE's adapter for pooled
    (one-per-image) vectors."""

    def __init__(self, in_dim: int, out_dim: int = 128):
        check_positive_int(in_dim, 'in_dim')
        check_positive_int(out_dim, 'out_dim')
        super().__init__(in_dim, out_dim, nn.Linear(in_dim, out_dim))


ADAPTERS = {'mlp': MLPAdapter, 'linear': LinearAdapter}


def build_adapter(in_dim: int,
                  out_dim: int = 128,
                  kind='mlp',
                  **kwargs) -> nn.Module:
    """``build_adapter(256, 128, 'mlp', hidden=64)``; ``kind`` may also be a
    dict or module."""
    return build_from_table(
        'adapter', kind, ADAPTERS, in_dim=in_dim, out_dim=out_dim, **kwargs)
