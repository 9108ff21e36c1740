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
        """Map sample vectors to the embedding.

        Args:
            x (Tensor): sample vectors, shape (N, in_dim).

        Returns:
            Tensor: embeddings, shape (N, out_dim).
        """
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(
                f'{type(self).__name__} expects [N, {self.in_dim}], got '
                f'{tuple(x.shape)}; set in_dim to the layer\'s channel count')
        return super().forward(x)


class MLPAdapter(_VectorAdapter):
    """``Linear -> BatchNorm1d -> ReLU -> Linear`` on sampled feature vectors.

    MUSE's ``1x1 conv -> BN -> ReLU -> 1x1 conv`` map adapter evaluated only
    at the sampled locations: a 1x1 conv *is* a per-location Linear, so the
    outputs there are the same, at num_samples / (H W) of the cost. One
    difference: BatchNorm's training statistics come from the N sampled
    locations instead of all B*H*W (an unbiased subsample of them). Maps
    (N, in_dim) to (N, out_dim).

    Args:
        in_dim (int): channels of the sampled feature.
        out_dim (int): embedding size. Defaults to 128.
        hidden (int, optional): hidden width; None: ``out_dim``. The first
            Linear has no bias (BatchNorm removes it anyway). Defaults to
            None.
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
    """A single ``Linear``: MUSE's adapter for pooled (one-per-image) vectors.

    Maps (N, in_dim) to (N, out_dim).

    Args:
        in_dim (int): channels of the pooled feature.
        out_dim (int): embedding size. Defaults to 128.
    """

    def __init__(self, in_dim: int, out_dim: int = 128):
        check_positive_int(in_dim, 'in_dim')
        check_positive_int(out_dim, 'out_dim')
        super().__init__(in_dim, out_dim, nn.Linear(in_dim, out_dim))


ADAPTERS = {'mlp': MLPAdapter, 'linear': LinearAdapter}


def build_adapter(in_dim: int,
                  out_dim: int = 128,
                  kind='mlp',
                  **kwargs) -> nn.Module:
    """Build an adapter from a name, a config dict or a module.

    ``build_adapter(256, 128, 'mlp', hidden=64)``.

    Args:
        in_dim (int): input channels.
        out_dim (int): embedding size. Defaults to 128.
        kind (str | dict | nn.Module): a key of :data:`ADAPTERS` ('mlp',
            'linear'), a ``dict(type=name, **kwargs)``, or a ready module
            (returned as is). Defaults to 'mlp'.
        **kwargs: further constructor arguments (e.g. ``hidden``); the keys
            of a dict ``kind`` win over them and over the dimensions.

    Returns:
        nn.Module: the adapter, (N, in_dim) -> (N, out_dim).
    """
    return build_from_table(
        'adapter', kind, ADAPTERS, in_dim=in_dim, out_dim=out_dim, **kwargs)
