"""From raw features to paired samples: (s, t) -> (v_s [N, C_s], v_t [N, C_t]).

Row i of v_s and row i of v_t are a positive pair (one image point of both
features, :mod:`.alignment`, or one image); every other row is a negative.
Classification: one sample per image (vectors, or pooled maps), N = B, or map
locations. Detection: up to ``num_samples`` locations per image, drawn without
replacement from the valid (unpadded) part of the aligned grid.
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .alignment import (FINE_READS, Boxes, Grid, ImageShapes, Offsets, Strides,
                        align_maps, check_grid, check_offsets, check_strides,
                        image_extents, student_is_finer, valid_mask)
from .step_cache import step_cached, tensor_key
from .validation import check_choice, check_pair, check_positive_int


def box_location_weights(boxes: Sequence[Tensor], stride,
                         size: Tuple[int, int], weight: float) -> Tensor:
    """Sampling weights that favour locations inside ground-truth boxes.

    Args:
        boxes (Sequence[Tensor]): per image, boxes of shape (n_i, 4) as
            ``(x1, y1, x2, y2)`` in input pixels.
        stride (float | tuple[float, float]): the grid's stride.
        size (tuple[int, int]): the grid's ``(h, w)``.
        weight (float): the weight of a location whose image point (S * i)
            lies in a box of its image; 1 elsewhere.

    Returns:
        Tensor: shape (B, h, w), on the boxes' device (no host read).
    """
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
    """Turn a (student, target) feature pair into paired samples.

    ``sampler(s, t)`` returns ``(v_s, v_t)`` of shapes (N, C_s) and (N, C_t):
    row i of both is one image point (or one image), every other row a
    negative. Map losses ask :meth:`aligned_maps` instead and get whole maps
    on one grid. The draw happens on the CPU, so it never waits for the
    device.

    Args:
        num_samples (int | str | None): at most that many locations per
            image, drawn uniformly *without replacement* from the image's
            valid part of the aligned grid and shared by s and t; fewer where
            that part has fewer. None or ``'all'``: every valid location.
            Defaults to 256.
        grid (int | Sequence[int] | None): coarsen the aligned grid to at
            most that many locations per axis (:func:`~.alignment.align_maps`).
        mode (str): ``'pool'`` averages maps to one vector per image;
            ``'locations'`` samples map locations (both inputs must be maps);
            ``'auto'`` (default) samples locations when both are maps, passes
            vectors through, and pools the map when only one side is a map.
        generator (torch.Generator, optional): a CPU generator for
            reproducible draws.
        strides (Sequence[float] | None): ``(S_s, S_t)`` in input pixels.
        fine_read (str): how the finer map is read, ``'window'`` or
            ``'pixel'`` (:func:`~.alignment.align_maps`).
        offsets (Sequence | None): each side's ``(dy, dx)``
            (:func:`~.alignment.align_maps`).
        box_weight (float): w >= 1; with ``boxes``, a location whose image
            point lies in a ground-truth box is drawn as if w locations stood
            there (weighted sampling without replacement, keys u^(1/w)).
            1 (default) samples uniformly.
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
        self.grid = check_grid(grid)
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
        """Paired samples of a student and a target feature.

        Args:
            s (Tensor): student, shape (B, C_s, H_s, W_s) or (B, C_s).
            t (Tensor): target, shape (B, C_t, H_t, W_t) or (B, C_t).
            img_shapes (Sequence[Sequence[int]], optional): each image's
                unpadded ``(h, w)`` in input pixels; padding is never drawn.
            draws (dict, optional): kept for one training step. Calls that
                sample the same grid (batch, size, valid extents,
                ``num_samples``) share one draw of locations instead of each
                advancing the generator; calls that also read the same target
                map as the coarser side get the same target tensor back, so a
                shared target adapter embeds it once
                (:meth:`~.pair_losses.base.CriticPairLoss.embed`).
            boxes (Sequence[Tensor], optional): per image, ground-truth boxes
                (n_i, 4) in input pixels, for ``box_weight``.

        Returns:
            tuple[Tensor, Tensor]: ``v_s`` (N, C_s) and ``v_t`` (N, C_t); N is
            B when pooled, else the sum over images of their drawn locations.
        """
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

    def aligned_maps(self,
                     s: Tensor,
                     t: Tensor,
                     img_shapes: ImageShapes = None) -> Tuple[Tensor, Tensor]:
        """Both maps on one grid, zero outside each image's valid part: for
        losses that compare whole maps rather than sampled vectors.

        Args:
            s (Tensor): student map, shape (B, C_s, H_s, W_s).
            t (Tensor): target map, shape (B, C_t, H_t, W_t).
            img_shapes (Sequence[Sequence[int]], optional): each image's
                unpadded ``(h, w)`` in input pixels.

        Returns:
            tuple[Tensor, Tensor]: shapes (B, C_s, h, w) and (B, C_t, h, w).
        """
        s, t, stride = align_maps(s, t, self.strides, self.grid,
                                  self.fine_read, self.offsets)
        extents = image_extents(img_shapes, stride, s.shape[0],
                                tuple(s.shape[-2:]))
        if extents is None:
            return s, t
        mask = valid_mask(extents, tuple(s.shape[-2:]), s.device).to(s.dtype)
        return s * mask, t * mask

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
        """Draw up to ``num_samples`` distinct valid locations per image.

        Args:
            batch (int): B.
            size (tuple[int, int]): the grid's ``(h, w)``.
            extents (Sequence[tuple[int, int]], optional): per image, valid
                rows and columns; None: the whole grid.
            weights (Tensor, optional): shape (B, h, w); location j is kept
                with key u_j^(1/w_j), drawn on the weights' device. None: a
                uniform draw on the CPU.

        Returns:
            tuple[Tensor, Tensor]: image index (N,) and flat location index
            ``row * w + col`` (N,), image-major.
        """
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
