"""From raw features to paired samples: (s, t) -> (v_s [N, C_s], v_t [N, C_t]).

Classification: one sample per image (vectors, or global-average-pooled maps), N = B.
Detection: batches hold ~2 images, so samples are *locations*: both maps are resampled to a
common grid and the same ``num_samples`` locations per image are drawn from both, N = B * n.
Row i of v_s and row i of v_t are a positive pair; every other row is a negative.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_choice, check_pair, check_positive_int

Grid = Union[None, int, Sequence[int]]


def _grid(grid: Grid) -> Optional[Tuple[int, int]]:
    if grid is None:
        return None
    if isinstance(grid, int) and not isinstance(grid, bool):
        grid = (grid, grid)
    if (not isinstance(grid, Sequence) or len(grid) != 2
            or not all(isinstance(g, int) and not isinstance(g, bool) and g > 0 for g in grid)):
        raise ValueError(f'grid must be None, a positive int or a (h, w) pair, got {grid!r}')
    return tuple(grid)


def resize_map(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """[B, C, H, W] -> [B, C, h, w]. Shrinking uses adaptive average pooling (every input pixel
    contributes: anti-aliased, and a location on the coarse grid summarises its whole cell, which
    is what a deeper layer's location sees); enlarging uses bilinear interpolation."""
    h, w = size
    height, width = x.shape[-2:]
    if (height, width) == (h, w):
        return x
    if h > height or w > width:
        x = F.interpolate(x, size=(max(h, height), max(w, width)), mode='bilinear',
                          align_corners=False)
    if tuple(x.shape[-2:]) != (h, w):
        x = F.adaptive_avg_pool2d(x, (h, w))
    return x


def align_maps(s: Tensor, t: Tensor, grid: Grid = None) -> Tuple[Tensor, Tensor]:
    """Resample maps s [B, C_s, H_s, W_s] and t [B, C_t, H_t, W_t] to one grid [.., h, w]: the
    coarser of the two (min per axis) when ``grid`` is None, else ``grid`` (int or (h, w))."""
    size = _grid(grid) or (min(s.shape[-2], t.shape[-2]), min(s.shape[-1], t.shape[-1]))
    return resize_map(s, size), resize_map(t, size)


def _locations(x: Tensor) -> Tensor:
    """[B, C, n] -> [B * n, C], image-major."""
    return x.permute(0, 2, 1).reshape(-1, x.shape[1])


class PairSampler:
    """``sampler(s, t) -> (v_s [N, C_s], v_t [N, C_t])``.

    ``mode``: 'pool' global-average-pools maps to one vector per image; 'locations' samples map
    locations (both inputs must be maps); 'auto' samples locations when both are maps, passes
    vectors through, and pools the map when only one side is a map (nothing to align it with).
    ``num_samples``: locations per image, drawn uniformly *without replacement* and shared by s and
    t; None or 'all' takes every location of the grid. Asking for more locations than the grid
    has is an error rather than a silent cap, so N (and the estimators' log N ceiling) is what the
    config says. ``generator``: a ``torch.Generator`` for reproducible draws (indices are drawn on
    its device, then moved to the features' device).
    """

    MODES = ('auto', 'pool', 'locations')

    def __init__(self, num_samples: Union[int, str, None] = 256, grid: Grid = None,
                 mode: str = 'auto', generator: Optional[torch.Generator] = None):
        if num_samples == 'all':
            num_samples = None
        self.num_samples = None if num_samples is None else check_positive_int(num_samples,
                                                                                'num_samples')
        self.grid = _grid(grid)
        self.mode = check_choice('sampling mode', mode, self.MODES)
        self.generator = generator

    def __repr__(self):
        return (f'{type(self).__name__}(num_samples={self.num_samples}, grid={self.grid}, '
                f'mode={self.mode!r})')

    def __call__(self, s: Tensor, t: Tensor) -> Tuple[Tensor, Tensor]:
        check_pair(s, t)
        maps = (s.ndim == 4, t.ndim == 4)
        if self.mode == 'locations' and not all(maps):
            raise ValueError(f"location sampling needs two [B, C, H, W] maps, got shapes "
                             f"{tuple(s.shape)} and {tuple(t.shape)}; use pool=None (auto) or "
                             f"pool=True for vector features")
        if self.mode == 'pool' or (self.mode == 'auto' and not all(maps)):
            return (s.mean(dim=(2, 3)) if maps[0] else s), (t.mean(dim=(2, 3)) if maps[1] else t)
        return self.sample_locations(*align_maps(s, t, self.grid))

    def sample_locations(self, s: Tensor, t: Tensor) -> Tuple[Tensor, Tensor]:
        """Aligned maps [B, C, h, w] -> the same locations of both, [B * n, C]."""
        b, _, h, w = s.shape
        s, t = s.flatten(2), t.flatten(2)
        n = self.num_samples
        if n is None:
            return _locations(s), _locations(t)
        if n > h * w:
            raise ValueError(f'num_samples={n} exceeds the {h * w} locations of the common '
                             f'{h}x{w} grid; lower num_samples, set a finer grid, or use '
                             f"num_samples='all'")
        device = self.generator.device if self.generator is not None else s.device
        keys = torch.rand(b, h * w, generator=self.generator, device=device)
        idx = keys.topk(n, dim=1).indices.to(s.device)  # n distinct locations per image
        return (_locations(s.gather(2, idx[:, None, :].expand(-1, s.shape[1], -1))),
                _locations(t.gather(2, idx[:, None, :].expand(-1, t.shape[1], -1))))
