"""From raw features to paired samples: (s, t) -> (v_s [N, C_s], v_t [N, C_t]).

A positive pair is *one image point* in both features (MUSE.md, "Geometry"). In
ResNet/FPN-style networks (stride-2 convs with padding k//2, nearest top-down
upsampling) pixel i of a map of stride S is centred near image coordinate S *
i, not at the cell centre S * (i + 1/2) that
``interpolate(align_corners=False)`` and ``adaptive_avg_pool2d`` assume. So:

- samples are drawn on the *coarser* map's native grid (never upsampled: its
  duplicated vectors would become false negatives); a user ``grid`` may only
  coarsen it further;
- the finer map is read at the matching point: its pixel r * i, r = S_coarse /
  S_fine (the nearest pixel when r is not an integer), or with
  ``fine_read='window'`` the mean of the window centred there;
- locations beyond each image's valid extent (``img_shapes``: padding)
  are never drawn.

Classification: one sample per image (vectors, or pooled maps), N = B, or map
locations as above. Row i of v_s and row i of v_t are a positive pair; every
other row is a negative.
"""
import math
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .checks import check_choice, check_pair, check_positive_int

Grid = Union[None, int, Sequence[int]]
# (student stride, target stride) in input pixels
Strides = Optional[Sequence[float]]
# (student, target): each (dy, dx) such that pixel i looks at image
# point stride * i + d
Offsets = Optional[Sequence[Sequence[float]]]
# per image (h, w) of its valid (unpadded) part
ImageShapes = Optional[Sequence[Sequence[int]]]
# per image [n_i, 4] ground-truth boxes (x1, y1, x2, y2) in input pixels
Boxes = Optional[Sequence[Tensor]]


def _grid(grid: Grid) -> Optional[Tuple[int, int]]:
    if grid is None:
        return None
    if isinstance(grid, int) and not isinstance(grid, bool):
        grid = (grid, grid)
    if (not isinstance(grid, Sequence) or len(grid) != 2 or not all(
            isinstance(g, int) and not isinstance(g, bool) and g > 0
            for g in grid)):
        raise ValueError(
            f'grid must be None, a positive int or a (h, w) pair, got {grid!r}'
        )
    return tuple(grid)


def check_strides(strides: Strides) -> Optional[Tuple[float, float]]:
    if strides is None:
        return None
    if (not isinstance(strides, Sequence) or len(strides) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
            for v in strides)):
        raise ValueError(
            'strides must be None or (student stride, target stride) in '
            f'input pixels, two positive numbers, got {strides!r}')
    return float(strides[0]), float(strides[1])


def centred_window_mean(x: Tensor, factor: Tuple[int, int]) -> Tensor:
    """[B, C, H, W] -> [B, C, ceil(H/f), ceil(W/f)]: output pixel i is the mean
    of the input window centred on pixel f * i (width f + 1 for even f, f for
    odd f; out-of-map pixels are not counted). f = 1 returns ``x``."""
    if factor == (1, 1):
        return x
    kernel = tuple(2 * (f // 2) + 1 for f in factor)
    return F.avg_pool2d(
        x,
        kernel,
        stride=factor,
        padding=tuple(f // 2 for f in factor),
        ceil_mode=False,
        count_include_pad=False)


def shift_map(x: Tensor, shift: Tuple[int, int]) -> Tensor:
    """[B, C, H, W] -> same shape, ``y[..., i, j] = x[..., i + dy, j + dx]``
    with the border replicated where that falls outside the map."""
    dy, dx = (max(-n + 1, min(n - 1, int(d)))
              for d, n in zip(shift, x.shape[-2:]))
    if (dy, dx) == (0, 0):
        return x
    h, w = x.shape[-2:]
    padded = F.pad(
        x, (max(-dx, 0), max(dx, 0), max(-dy, 0), max(dy, 0)),
        mode='replicate')
    return padded[..., max(dy, 0):max(dy, 0) + h, max(dx, 0):max(dx, 0) + w]


def shifted_window_mean(x: Tensor, shift: Tuple[int, int],
                        factor: Tuple[int, int]) -> Tensor:
    """``centred_window_mean(shift_map(x, shift), factor)``. A non-zero shift
    copies ``x`` (border replication), and pooling would keep that copy for
    backward: at 800 px the finest FPN level's copy was most of what MUSE added
    to a Faster R-CNN step's memory (1469 against 1403 MiB). The copy is
    recomputed in backward instead (cheap, memory-bound), so only ``x``
    itself, which the network keeps anyway, is held."""

    def read(t: Tensor) -> Tensor:
        return centred_window_mean(shift_map(t, shift), factor)

    if tuple(shift) == (0, 0) or not (torch.is_grad_enabled()
                                      and x.requires_grad):
        return read(x)
    return checkpoint(read, x, use_reentrant=False)


def _integer_ratio(ratio: float) -> Optional[int]:
    nearest = round(ratio)
    return int(nearest) if nearest >= 1 and abs(
        ratio - nearest) <= 1e-3 * ratio else None


def _nearest_rows(x: Tensor,
                  dim: int,
                  count: int,
                  ratio: float,
                  shift: float = 0.0) -> Tensor:
    """Rows round(ratio * i + shift), i < count, of ``x`` along ``dim``
    (clipped to the map)."""
    idx = torch.arange(
        count, device=x.device, dtype=torch.float64).mul(ratio).add(shift)
    return x.index_select(dim, idx.round().clamp(0, x.shape[dim] - 1).long())


def check_offsets(
    offsets: Offsets
) -> Optional[Tuple[Tuple[float, float], Tuple[float, float]]]:
    if offsets is None:
        return None
    try:
        (a, b), (c, d) = offsets
        return (float(a), float(b)), (float(c), float(d))
    except (TypeError, ValueError):
        raise ValueError(
            'offsets must be None or ((dy, dx) of the student, (dy, dx) of '
            f'the target) in input pixels, got {offsets!r}') from None


FINE_READS = ('pixel', 'window')


def student_is_finer(s: Tensor, t: Tensor, strides: Strides = None) -> bool:
    """Whether :func:`align_maps` reads the student as the finer map.

    Args:
        s (Tensor): student map [B, C_s, H_s, W_s].
        t (Tensor): target map [B, C_t, H_t, W_t].
        strides: (S_s, S_t) in input pixels (checked), or None.

    Returns:
        bool: S_s <= S_t where strides are known, else H_s W_s >= H_t W_t.
    """
    if strides is None:
        return s.shape[-2] * s.shape[-1] >= t.shape[-2] * t.shape[-1]
    return strides[0] <= strides[1]


def tensor_key(x: Tensor) -> tuple:
    """A key equal for tensors that view the same values the same way (e.g.
    a feature and each of its ``detach()`` views) and whether they carry
    gradient. Valid while the keyed dict holds ``x``: its storage cannot be
    freed and reused meanwhile."""
    return (x.data_ptr(), tuple(x.shape), x.stride(), x.dtype, x.device,
            x.requires_grad)


def step_cached(cache: dict, key: tuple, compute, *keep):
    """``cache[key]``'s value, computed by ``compute()`` on the first call of
    the step. ``keep``: the objects whose ids or storage ``key`` names, held
    with the value so that neither can be freed and reused while it lives."""
    if key not in cache:
        cache[key] = (*keep, compute())
    return cache[key][-1]


class AlignedMaps(NamedTuple):
    """Both maps on one grid (the coarser map's native grid, optionally
    coarsened), and that grid's stride in input pixels (None when the strides
    are unknown)."""
    student: Tensor
    target: Tensor
    stride: Optional[float]


def align_maps(s: Tensor,
               t: Tensor,
               strides: Strides = None,
               grid: Grid = None,
               fine_read: str = 'window',
               offsets: Offsets = None) -> AlignedMaps:
    """Put maps s [B, C_s, H_s, W_s] and t [B, C_t, H_t, W_t] on the grid of
    the coarser one.

    ``strides``: (S_s, S_t) in input pixels (muse-det's distillers measure them
    once at build). None: both maps are taken to span the same image, the
    stride ratio is read from their sizes (use it for maps whose sizes divide).
    ``fine_read='pixel'``: the finer map's pixel that looks at the same image
    point, round(r * i + (d_coarse - d_fine) / S_fine), r = S_coarse / S_fine,
    with ``offsets`` d = (dy, dx) of each side (pixel i looks at S * i + d; the
    distillers measure them,
    :func:`~muse_det.models.recorders.receptive_field_offsets`; None: 0).
    ``'window'``: the mean of the window centred there
    (:func:`centred_window_mean`, moved by the same offsets rounded to whole
    pixels; for a non-integer r the nearest pixel): it summarises the whole
    cell the coarse pixel stands for. ``grid`` (int or (h, w)): at most that
    many locations per axis, by window-averaging the coarse map further (and
    reading the fine map at the new centres); a grid finer than the native one
    changes nothing (the coarse map is never upsampled). Sizes that disagree by
    a border pixel are cropped to the common part.
    """
    strides = check_strides(strides)
    offsets = check_offsets(offsets) if strides is not None else None
    check_choice('fine_read', fine_read, FINE_READS)
    s_is_fine = student_is_finer(s, t, strides)
    fine, coarse = (s, t) if s_is_fine else (t, s)
    shift = (0.0, 0.0)
    if offsets is not None:
        d_fine, d_coarse = offsets if s_is_fine else offsets[::-1]
        shift = tuple((c - f) / min(strides) for c, f in zip(d_coarse, d_fine))
    if strides is None:
        ratio = max(1.0, fine.shape[-2] / coarse.shape[-2])
        coarse_stride = None
    else:
        ratio = max(strides) / min(strides)
        coarse_stride = max(strides)
    limit = _grid(grid)
    extra = (1, 1) if limit is None else tuple(
        max(1, math.ceil(n / g)) for n, g in zip(coarse.shape[-2:], limit))
    r = _integer_ratio(ratio)
    coarse = centred_window_mean(coarse, extra)
    if fine_read == 'pixel':
        fine = _nearest_rows(
            _nearest_rows(fine, 2, coarse.shape[-2], ratio * extra[0],
                          shift[0]), 3, coarse.shape[-1], ratio * extra[1],
            shift[1])
    elif r is not None:
        fine = shifted_window_mean(fine, tuple(round(v) for v in shift),
                                   (r * extra[0], r * extra[1]))
    else:
        fine = _nearest_rows(
            _nearest_rows(fine, 2, coarse.shape[-2], ratio), 3,
            coarse.shape[-1], ratio)
        fine = centred_window_mean(fine, extra)
    h, w = min(fine.shape[-2], coarse.shape[-2]), min(fine.shape[-1],
                                                      coarse.shape[-1])
    fine, coarse = fine[..., :h, :w], coarse[..., :h, :w]
    stride = None if coarse_stride is None else coarse_stride * extra[0]
    if extra[0] != extra[1] and stride is not None:
        stride = (coarse_stride * extra[0], coarse_stride * extra[1])
    return AlignedMaps(*((fine, coarse) if s_is_fine else (coarse, fine)),
                       stride)


def valid_extent(img_shapes: ImageShapes, stride,
                 size: Tuple[int, int]) -> List[Tuple[int, int]]:
    """Per image, the rows and columns of a grid of ``stride`` whose
    pixel centres (S * i) lie inside its (h, w): ceil(h / S), capped at
    the grid ``size``."""
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    return [(min(size[0], max(1, math.ceil(h / sh))),
             min(size[1], max(1, math.ceil(w / sw))))
            for h, w in (tuple(shape[:2]) for shape in img_shapes)]


def valid_mask(extents: Sequence[Tuple[int, int]],
               size: Tuple[int, int],
               device=None) -> Tensor:
    """[B, 1, h, w] float mask, 1 inside each image's valid extent."""
    rows = torch.tensor([e[0] for e in extents])
    cols = torch.tensor([e[1] for e in extents])
    mask = ((torch.arange(size[0])[None, :, None] < rows[:, None, None])
            & (torch.arange(size[1])[None, None, :] < cols[:, None, None]))
    return mask[:, None].float().to(device)


def image_extents(img_shapes: ImageShapes, stride, batch: int,
                  size: Tuple[int, int]) -> Optional[List[Tuple[int, int]]]:
    if img_shapes is None:
        return None
    if len(img_shapes) != batch:
        raise ValueError(
            f'img_shapes has {len(img_shapes)} entries for a batch of '
            f'{batch}; give one (h, w) per image')
    if stride is None:
        raise ValueError(
            'img_shapes (valid image extents) need the features\' strides to '
            'map pixels to grid locations; pass strides=(student, target)')
    return valid_extent(img_shapes, stride, size)


def box_location_weights(boxes: Sequence[Tensor], stride,
                         size: Tuple[int, int], weight: float) -> Tensor:
    """[B, h, w] sampling weights of a grid of ``stride``: ``weight`` at the
    locations whose image point (S * i) lies in a ground-truth box of their
    image, 1 elsewhere; on the boxes' device (no host read)."""
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    out = []
    for b in boxes:
        ys = torch.arange(size[0], device=b.device, dtype=b.dtype) * sh
        xs = torch.arange(size[1], device=b.device, dtype=b.dtype) * sw
        inside = ((xs >= b[:, 0, None, None]) & (xs <= b[:, 2, None, None])
                  & (ys[:, None] >= b[:, 1, None, None])
                  & (ys[:, None] <= b[:, 3, None, None])).any(0)
        out.append(1.0 + (weight - 1.0) * inside.float())
    return torch.stack(out)


class PairSampler:
    """``sampler(s, t, img_shapes=None) -> (v_s [N, C_s], v_t [N, C_t])``.

    ``mode``: 'pool' global-average-pools maps to one vector per image;
    'locations' samples map locations (both inputs must be maps); 'auto'
    samples locations when both are maps, passes vectors through, and pools the
    map when only one side is a map (nothing to align it with).
    ``num_samples``: at most that many locations per image, drawn uniformly
    *without replacement* from the image's valid part of the aligned grid
    (:func:`align_maps`) and shared by s and t; fewer where that part has fewer
    locations. None or 'all' takes every valid location. ``strides``:
    (S_s, S_t) in input pixels, ``fine_read`` and ``offsets``, see
    :func:`align_maps`. ``img_shapes``: each image's unpadded (h, w) in input
    pixels; padded locations are never drawn. ``generator``: a CPU
    ``torch.Generator`` for reproducible draws; the draw happens on the CPU, so
    it never waits for the device. ``draws``: a dict kept for one training
    step; calls that sample the same grid (batch, size, valid extents,
    ``num_samples``) -- e.g. several pairs taught by one target -- share one
    draw of locations instead of each drawing (and advancing the generator)
    again; calls that also read the same target map as the coarser side get
    the same target tensor back (its aligned map depends on nothing else), so
    a target adapter shared by those pairs embeds it once
    (:meth:`~.pair_losses.base.CriticPairLoss.embed`). ``box_weight`` (w >= 1,
    with ``boxes``: each image's ground-truth
    boxes in input pixels): a location whose image point lies in a box is
    drawn as if w locations stood there (weighted sampling without
    replacement, keys u^(1/w)); 1 (default) samples uniformly.
    """

    MODES = ('auto', 'pool', 'locations')

    def __init__(self,
                 num_samples: Union[int, str, None] = 256,
                 grid: Grid = None,
                 mode: str = 'auto',
                 generator: Optional[torch.Generator] = None,
                 strides: Strides = None,
                 fine_read: str = 'window',
                 offsets: Offsets = None,
                 box_weight: float = 1.0):
        if num_samples == 'all':
            num_samples = None
        self.num_samples = None if num_samples is None else check_positive_int(
            num_samples, 'num_samples')
        self.grid = _grid(grid)
        self.mode = check_choice('sampling mode', mode, self.MODES)
        if generator is not None and generator.device.type != 'cpu':
            raise ValueError(
                'the sampling generator must be a CPU torch.Generator, got '
                f'one on {generator.device}')
        self.generator = generator
        self.strides = check_strides(strides)
        self.fine_read = check_choice('fine_read', fine_read, FINE_READS)
        self.offsets = check_offsets(offsets)
        if (isinstance(box_weight, bool)
                or not isinstance(box_weight, (int, float))
                or not box_weight >= 1 or math.isinf(box_weight)):
            raise ValueError(
                'box_weight must be a finite number >= 1 (1: uniform '
                f'sampling), got {box_weight!r}')
        self.box_weight = float(box_weight)

    def __repr__(self):
        return (
            f'{type(self).__name__}(num_samples={self.num_samples}, '
            f'grid={self.grid}, mode={self.mode!r}, strides={self.strides}, '
            f'fine_read={self.fine_read!r}, box_weight={self.box_weight})')

    def __call__(self,
                 s: Tensor,
                 t: Tensor,
                 img_shapes: ImageShapes = None,
                 draws: Optional[dict] = None,
                 boxes: Boxes = None) -> Tuple[Tensor, Tensor]:
        check_pair(s, t)
        maps = (s.ndim == 4, t.ndim == 4)
        if self.mode == 'locations' and not all(maps):
            raise ValueError(
                'location sampling needs two [B, C, H, W] maps, got shapes '
                f'{tuple(s.shape)} and {tuple(t.shape)}; use pool=None (auto) '
                'or pool=True for vector features')
        if self.mode == 'pool' or (self.mode == 'auto' and not all(maps)):
            return (s.mean(dim=(2, 3)) if maps[0] else s), (
                self._pooled(t, draws) if maps[1] else t)
        aligned = align_maps(s, t, self.strides, self.grid, self.fine_read,
                             self.offsets)
        size = tuple(aligned.target.shape[-2:])
        extents = image_extents(img_shapes, aligned.stride, s.shape[0], size)
        weighted = self.box_weight != 1 and boxes is not None
        key = (s.shape[0], size, extents
               and tuple(extents), self.num_samples, s.device, weighted
               and self.box_weight)
        found = None if draws is None else draws.get(key)
        if found is None:
            weights = None
            if weighted:
                if aligned.stride is None:
                    raise ValueError(
                        'box_weight needs the features\' strides to place '
                        'the boxes on the grid; pass strides=(student, '
                        'target)')
                weights = box_location_weights(boxes, aligned.stride, size,
                                               self.box_weight)
            # a host draw moves to the features' device; a weighted one is
            # there already
            found = tuple(
                x if x.device == s.device else x.to(s.device)
                for x in self.draw(s.shape[0], size, extents, weights))
            if draws is not None:
                draws[key] = found
        images, locations = found
        student = aligned.student.flatten(2)[images, :, locations]
        if draws is None or not student_is_finer(s, t, self.strides):
            # a finer target is read where this student's pixels look
            return student, aligned.target.flatten(2)[images, :, locations]
        # the coarser side's aligned map is a function of the map, the grid
        # and the crop (part of `key`): pairs taught by it share one read
        return student, step_cached(
            draws, ('target', tensor_key(t), self.grid, key),
            lambda: aligned.target.flatten(2)[images, :, locations], t)

    @staticmethod
    def _pooled(t: Tensor, draws: Optional[dict]) -> Tensor:
        """The target map's per-image mean [B, C_t], one tensor for every
        call of the step that pools ``t``."""
        if draws is None:
            return t.mean(dim=(2, 3))
        return step_cached(draws, ('pooled', tensor_key(t)),
                           lambda: t.mean(dim=(2, 3)), t)

    def draw(self,
             batch: int,
             size: Tuple[int, int],
             extents: Optional[Sequence[Tuple[int, int]]] = None,
             weights: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """(image index [N], flat location index h_i * w + w_i [N]),
        image-major: up to ``num_samples`` distinct valid locations of each
        image of a ``size`` grid, drawn on the CPU (``weights`` [B, h, w]: on
        their device, location j kept with keys u_j^(1/w_j))."""
        h, w = size
        valid = [h * w] * batch if extents is None else [
            eh * ew for eh, ew in extents
        ]
        counts = [
            v if self.num_samples is None else min(self.num_samples, v)
            for v in valid
        ]
        most = max(counts)
        keys = torch.rand(batch, h, w, generator=self.generator)
        invalid = -1.0
        if weights is not None:
            # ordering by u^(1/w) is ordering by log(u) / w
            keys, invalid = keys.to(weights.device).log() / weights, -math.inf
        if extents is not None:
            keys = keys.masked_fill(
                valid_mask(extents, size, keys.device)[:, 0] == 0, invalid)
        if self.num_samples is None and extents is None:
            # every location, in order
            locations = torch.arange(h * w).expand(batch, -1)
        else:
            locations = keys.flatten(1).topk(most, dim=1).indices
        if min(counts) == most:
            return torch.arange(batch).repeat_interleave(
                most), locations.reshape(-1)
        # slices by host-side counts: no data-dependent shapes, even on the CPU
        return (torch.cat([torch.full((c, ), b)
                           for b, c in enumerate(counts)]),
                torch.cat([locations[b, :c] for b, c in enumerate(counts)]))
