"""Put a student and a target map on one grid, so that pixel i of both looks
at one image point.

A positive pair is *one image point* in both features (docs/method.md,
"Samples: a positive pair is one image point"). In ResNet/FPN-style networks
(stride-2 convs with padding k//2, nearest top-down upsampling) pixel i of a
map of stride S is centred near image coordinate S * i, not at the cell centre
S * (i + 1/2) that ``interpolate(align_corners=False)`` and
``adaptive_avg_pool2d`` assume. So:

- both maps go on the *coarser* map's native grid (never upsampled: its
  duplicated vectors would become false negatives); a user ``grid`` may only
  coarsen it further;
- the finer map is read at the matching point: its pixel r * i, r = S_coarse /
  S_fine (the nearest pixel when r is not an integer), or with
  ``fine_read='window'`` the mean of the window centred there;
- each image's valid extent (``img_shapes``, without padding) is known on the
  aligned grid (:func:`image_extents`), so padding is never sampled.
"""
import math
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .validation import check_choice

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


def check_grid(grid: Grid) -> Optional[Tuple[int, int]]:
    """Validate a sampling grid limit.

    Args:
        grid (int | Sequence[int] | None): at most that many locations per
            axis, one int for both or ``(h, w)``; None: no limit.

    Returns:
        tuple[int, int] | None: ``(h, w)``, or None.
    """
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
    """Validate a pair's strides.

    Args:
        strides (Sequence[float] | None): ``(S_s, S_t)``, the student's and
            the target's stride in input pixels; None: unknown.

    Returns:
        tuple[float, float] | None: the strides as floats, or None.
    """
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
    """Mean of the window centred on every f-th pixel.

    Output pixel i is the mean of the input window centred on pixel f * i
    (width f + 1 for even f, f for odd f; out-of-map pixels are not counted).

    Args:
        x (Tensor): map, shape (B, C, H, W).
        factor (tuple[int, int]): ``(f_h, f_w)``; ``(1, 1)`` returns ``x``.

    Returns:
        Tensor: shape (B, C, ceil(H / f_h), ceil(W / f_w)).
    """
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
    """Shift a map by whole pixels, replicating the border.

    Args:
        x (Tensor): map, shape (B, C, H, W).
        shift (tuple[int, int]): ``(dy, dx)``; clipped to the map size.

    Returns:
        Tensor: shape (B, C, H, W), ``y[..., i, j] = x[..., i + dy, j + dx]``
        (the border pixel where that falls outside the map).
    """
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
    """``centred_window_mean(shift_map(x, shift), factor)`` without keeping
    the shifted copy for backward.

    A non-zero shift copies ``x`` and pooling would keep that copy for
    backward; it is recomputed in backward instead (cheap, memory-bound), so
    only ``x``, which the network holds anyway, stays alive (why:
    docs/method.md, "Samples: a positive pair is one image point").

    Args:
        x (Tensor): map, shape (B, C, H, W).
        shift (tuple[int, int]): ``(dy, dx)`` in whole pixels.
        factor (tuple[int, int]): window step ``(f_h, f_w)``.

    Returns:
        Tensor: shape (B, C, ceil(H / f_h), ceil(W / f_w)).
    """

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
    """Validate a pair's receptive-field offsets.

    Args:
        offsets (Sequence | None): ``((dy, dx) of the student, (dy, dx) of
            the target)`` in input pixels: pixel i of a side looks at image
            point ``S * i + d``; None: 0 for both.

    Returns:
        tuple | None: the offsets as floats, or None.
    """
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
        s (Tensor): student map, shape (B, C_s, H_s, W_s).
        t (Tensor): target map, shape (B, C_t, H_t, W_t).
        strides (tuple[float, float] | None): ``(S_s, S_t)`` in input pixels
            (checked), or None.

    Returns:
        bool: S_s <= S_t where strides are known, else H_s W_s >= H_t W_t.
    """
    if strides is None:
        return s.shape[-2] * s.shape[-1] >= t.shape[-2] * t.shape[-1]
    return strides[0] <= strides[1]


class AlignedMaps(NamedTuple):
    """Both maps on one grid, the result of :func:`align_maps`.

    Attributes:
        student (Tensor): shape (B, C_s, h, w).
        target (Tensor): shape (B, C_t, h, w).
        stride (float | tuple[float, float] | None): the grid's stride in
            input pixels (a pair when the axes differ), None when the strides
            are unknown.
    """
    student: Tensor
    target: Tensor
    stride: Union[None, float, Tuple[float, float]]


def align_maps(s: Tensor,
               t: Tensor,
               strides: Strides = None,
               grid: Grid = None,
               fine_read: str = 'window',
               offsets: Offsets = None) -> AlignedMaps:
    """Put two maps on the grid of the coarser one.

    The finer map is read where the coarse pixel i looks: with
    ``fine_read='pixel'`` its pixel round(r * i + (d_coarse - d_fine) /
    S_fine), r = S_coarse / S_fine; with ``'window'`` the mean of the window
    centred there (:func:`centred_window_mean`, moved by the same offsets
    rounded to whole pixels; for a non-integer r the nearest pixel), which
    summarises the whole cell the coarse pixel stands for. Sizes that disagree
    by a border pixel are cropped to the common part.

    Args:
        s (Tensor): student map, shape (B, C_s, H_s, W_s).
        t (Tensor): target map, shape (B, C_t, H_t, W_t).
        strides (Sequence[float] | None): ``(S_s, S_t)`` in input pixels (the
            distillers measure them at build). None: both maps span the same
            image and the ratio is read from their sizes (for sizes that
            divide).
        grid (int | Sequence[int] | None): at most that many locations per
            axis, by window-averaging the coarse map further (and reading the
            fine map at the new centres); a grid finer than the native one
            changes nothing (the coarse map is never upsampled).
        fine_read (str): ``'window'`` (default) or ``'pixel'``.
        offsets (Sequence | None): ``(d_s, d_t)``, each ``(dy, dx)``: pixel i
            of a side looks at image point ``S * i + d`` (measured by
            :func:`~muse_det.models.recorders.receptive_field.receptive_field_offsets`);
            None: 0. Used only with ``strides``.

    Returns:
        AlignedMaps: ``student`` (B, C_s, h, w), ``target`` (B, C_t, h, w) and
        the grid's ``stride``.
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
    limit = check_grid(grid)
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
    """Per image, the part of a grid that looks inside the image.

    Args:
        img_shapes (Sequence[Sequence[int]]): each image's valid ``(h, w)``
            in input pixels.
        stride (float | tuple[float, float]): the grid's stride.
        size (tuple[int, int]): the grid's ``(h, w)``.

    Returns:
        list[tuple[int, int]]: per image, the rows and columns whose pixel
        centres (S * i) lie inside it, ``ceil(h / S)``, capped at ``size``.
    """
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    return [(min(size[0], max(1, math.ceil(h / sh))),
             min(size[1], max(1, math.ceil(w / sw))))
            for h, w in (tuple(shape[:2]) for shape in img_shapes)]


def valid_mask(extents: Sequence[Tuple[int, int]],
               size: Tuple[int, int],
               device=None) -> Tensor:
    """Float mask of each image's valid extent.

    Args:
        extents (Sequence[tuple[int, int]]): per image, valid rows and
            columns (:func:`valid_extent`).
        size (tuple[int, int]): the grid's ``(h, w)``.
        device (torch.device, optional): where the mask goes.

    Returns:
        Tensor: shape (B, 1, h, w), 1 inside each image's extent, else 0.
    """
    rows = torch.tensor([e[0] for e in extents])
    cols = torch.tensor([e[1] for e in extents])
    mask = ((torch.arange(size[0])[None, :, None] < rows[:, None, None])
            & (torch.arange(size[1])[None, None, :] < cols[:, None, None]))
    return mask[:, None].float().to(device)


def image_extents(img_shapes: ImageShapes, stride, batch: int,
                  size: Tuple[int, int]) -> Optional[List[Tuple[int, int]]]:
    """:func:`valid_extent` with the errors a caller can make named.

    Args:
        img_shapes (Sequence[Sequence[int]] | None): each image's valid
            ``(h, w)``; None: every location is valid.
        stride (float | tuple[float, float] | None): the grid's stride.
        batch (int): the batch size ``img_shapes`` must match.
        size (tuple[int, int]): the grid's ``(h, w)``.

    Returns:
        list[tuple[int, int]] | None: per image, valid rows and columns.
    """
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
