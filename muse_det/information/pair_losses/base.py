"""What every pair loss shares: validation, sampling, target detaching, the
fp32 island and the loss weight. Subclasses supply ``embed`` (adapters) and
``discrepancy`` (the math)."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from .. import checks
from ..adapters import build_adapter
from ..checks import check_pair, check_positive_int, check_weight, fp32_island
from ..critics import build_critic
from ..distributed import gather_rows
from ..entropy.base import standardize
from ..sampling import (Boxes, Grid, ImageShapes, Offsets, PairSampler,
                        Strides, align_maps, image_extents, step_cached,
                        tensor_key, valid_mask)

POOL_MODES = {None: 'auto', True: 'pool', False: 'locations'}


class PairLoss(nn.Module):
    """``forward(student, target) -> {'loss': weighted scalar to minimise,
    **detached logs}``.

    student [B, C_s, H, W] or [B, C_s]; target [B, C_t, H', W'] or [B, C_t].
    ``img_shapes``: each image's unpadded (h, w) in input pixels (detection
    batches are padded); padded locations are never sampled
    (map losses: masked out). Sampling (``num_samples``, ``grid``, ``pool``,
    ``strides``): see :class:`~..sampling.PairSampler`; ``pool=None`` samples
    locations of maps and passes vectors through, ``pool=True`` averages maps
    to one vector per image, ``pool=False`` insists on maps. ``strides`` =
    (S_s, S_t) in input pixels puts a positive pair at one image point (the
    distillers measure them); ``fine_read`` ('pixel' or 'window') how the finer
    map is read there; ``offsets`` ((dy, dx) of each side, measured by the
    distillers) where each side's pixel i looks (S * i + d); ``box_weight``
    (>= 1) makes locations inside the ground-truth ``boxes`` that many times
    as likely to be drawn. Losses that
    compare whole maps (``needs_maps``) use the aligned maps
    (:func:`~..sampling.align_maps`) of :meth:`prepare`'d features.
    ``detach_target=True``: no gradient reaches the target feature
    (deep teaches shallow); modules applied to it after detaching still learn.
    ``loss_weight``: a plain float attribute, re-validated every step because
    hooks change it.
    """

    name: str = None
    needs_maps = False

    def __init__(self,
                 student_channels: int,
                 target_channels: int,
                 *,
                 loss_weight: float = 1.0,
                 num_samples=256,
                 grid: Grid = None,
                 pool: Optional[bool] = None,
                 detach_target: bool = True,
                 generator: Optional[torch.Generator] = None,
                 strides: Strides = None,
                 fine_read: str = 'window',
                 offsets: Offsets = None,
                 box_weight: float = 1.0):
        super().__init__()
        self.student_channels = check_positive_int(student_channels,
                                                   'student_channels')
        self.target_channels = check_positive_int(target_channels,
                                                  'target_channels')
        self.loss_weight = check_weight(loss_weight)
        if pool not in POOL_MODES:
            raise ValueError(
                f'pool must be None (auto), True or False, got {pool!r}')
        self.pool = pool
        self.detach_target = bool(detach_target)
        self.sampler = PairSampler(num_samples, grid, POOL_MODES[pool],
                                   generator, strides, fine_read, offsets,
                                   box_weight)

    def extra_repr(self) -> str:
        return (f'student_channels={self.student_channels}, '
                f'target_channels={self.target_channels}, '
                f'loss_weight={self.loss_weight}, sampler={self.sampler}')

    def forward(self,
                student: Tensor,
                target: Tensor,
                img_shapes: ImageShapes = None,
                check_finite: bool = True,
                draws: Optional[dict] = None,
                boxes: Boxes = None) -> Dict[str, Tensor]:
        """``check_finite=False``: the caller watches its features for NaN/Inf
        itself (the distillers do, without a device sync:
        :class:`~..checks.FiniteWatch`); True reads the device once per call to
        raise on a NaN/Inf input. ``draws``: a dict shared by the pair losses
        of one step, so pairs sampling the same grid share one draw of
        locations (:class:`~..sampling.PairSampler`); ``boxes``: each image's
        ground-truth boxes, for ``box_weight``."""
        weight = check_weight(self.loss_weight)
        self.check_inputs(student, target)
        if check_finite:
            checks.check_finite(student=student, target=target)
        if self.detach_target:
            target = target.detach()
        s, t = self.sample(student, target, img_shapes, draws, boxes)
        if not torch.is_autocast_enabled(s.device.type):
            # half-precision features outside autocast would meet
            # fp32 adapter weights
            s, t = s.float(), t.float()
        out = self.pair_loss(s, t, draws)
        logs = {k: v.detach() for k, v in out.items() if k != 'loss'}
        return dict(loss=out['loss'] * weight, **logs)

    def pair_loss(self,
                  s: Tensor,
                  t: Tensor,
                  cache: Optional[dict] = None) -> Dict[str, Tensor]:
        """Sampled (or aligned) s, t -> ``{'loss', **logs}``: adapters, then
        the math in fp32.

        Args:
            s (Tensor): student samples [N, C_s] (or aligned maps).
            t (Tensor): target samples [N, C_t] (or aligned maps).
            cache (dict, optional): the step's dict shared by the pair losses
                (``draws`` of :meth:`forward`); see :meth:`embed`.

        Returns:
            dict: ``loss`` (unweighted scalar) and detached logged terms.
        """
        z_s, z_t = self.embed(s, t, cache)
        with fp32_island(z_s.device):
            return self.discrepancy(z_s.float(), z_t.float())

    def check_inputs(self, student: Tensor, target: Tensor) -> None:
        if self.needs_maps and not (getattr(student, 'ndim', 0) == 4 ==
                                    getattr(target, 'ndim', 0)):
            raise ValueError(
                f'the {self.name!r} loss compares spatial maps and needs [B, '
                'C, H, W] features, got student '
                f"{tuple(getattr(student, 'shape', ()))}, target "
                f"{tuple(getattr(target, 'shape', ()))}; record map-valued "
                "layers or use a loss that works on vectors: 'muse', 'l2', "
                "'cosine', 'vid', 'crd'")
        check_pair(student, target)
        for x, side, channels in ((student, 'student', self.student_channels),
                                  (target, 'target', self.target_channels)):
            if x.shape[1] != channels:
                raise ValueError(
                    f'{side} has {x.shape[1]} channels but the loss was built '
                    f'with {side}_channels={channels}; set '
                    f'{side}_channels={x.shape[1]}')

    def sample(self,
               student: Tensor,
               target: Tensor,
               img_shapes: ImageShapes = None,
               draws: Optional[dict] = None,
               boxes: Boxes = None) -> Tuple[Tensor, Tensor]:
        if self.needs_maps:
            s, t, stride = align_maps(
                self.prepare(student), self.prepare(target),
                self.sampler.strides, self.sampler.grid,
                self.sampler.fine_read, self.sampler.offsets)
            extents = image_extents(img_shapes, stride, s.shape[0],
                                    tuple(s.shape[-2:]))
            if extents is None:
                return s, t
            mask = valid_mask(extents, tuple(s.shape[-2:]),
                              s.device).to(s.dtype)
            return s * mask, t * mask
        s, t = self.sampler(student, target, img_shapes, draws, boxes)
        if s.shape[0] < 2:
            raise ValueError(
                f'{s.shape[0]} sample(s) per step; at least 2 are needed '
                '(negatives, batch statistics): raise the batch size or '
                'num_samples')
        return s, t

    def prepare(self, x: Tensor) -> Tensor:
        """Map losses: a per-feature transform at native resolution,
        before alignment."""
        return x

    def embed(self,
              s: Tensor,
              t: Tensor,
              cache: Optional[dict] = None) -> Tuple[Tensor, Tensor]:
        """Adapters: s [N, C_s], t [N, C_t] -> (z_s, z_t); the identity
        here."""
        return s, t

    def discrepancy(self, z_s: Tensor,
                    z_t: Tensor) -> Dict[str, Tensor]:  # pragma: no cover
        raise NotImplementedError

    def _adapter(self, in_dim: int, out_dim: int, kind,
                 hidden: Optional[int]) -> nn.Module:
        """``kind='auto'``: a Linear for pooled vectors (pool=True), the MLP
        adapter otherwise."""
        if kind == 'auto':
            kind = 'linear' if self.pool is True else 'mlp'
        kwargs = {} if hidden is None else dict(hidden=hidden)
        return build_adapter(in_dim, out_dim, kind, **kwargs)


class StudentAdaptedLoss(PairLoss):
    """Compares in the *target's own* space: only the student is adapted
    (to C_t channels).

    The target is never passed through anything learnable: a learnable
    projection of a detached target could shrink to a constant that the
    student matches trivially (l2/cosine/vid would all reach their optimum
    while teaching nothing). ``standardize_target=True`` (l2, vid) gives it
    zero mean and unit variance per channel over the N samples, as detection
    feature KD does: in self-distillation the deepest layer's scale grows
    during training, and regressing it raw diverged (loss ~4e5 after 100
    iterations on the toy detection set).
    """

    standardize_target = False

    def __init__(self,
                 student_channels: int,
                 target_channels: int,
                 *,
                 adapter='auto',
                 adapter_hidden: Optional[int] = None,
                 **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        self.adapter = self._adapter(student_channels, target_channels,
                                     adapter, adapter_hidden)

    def embed(self,
              s: Tensor,
              t: Tensor,
              cache: Optional[dict] = None) -> Tuple[Tensor, Tensor]:
        return self.adapter(s), standardize(
            t) if self.standardize_target else t


class CriticPairLoss(PairLoss):
    """Adapts both sides to ``embed_dim`` and scores all pairs with a
    critic (MUSE, CRD).

    Both adapters are learnable; with ``detach_target`` the target adapter
    still trains (it sits after the detach), so the shared embedding space is
    learnt from both ends. ``gather_negatives=True`` (training, with
    torch.distributed): the target embeddings of every rank are all-gathered,
    so each rank scores its N positives against all M targets of the global
    batch ([N, M] scores, positives at the rank's offset) and the estimate, its
    log M ceiling and the result no longer depend on how many GPUs share the
    batch. Gradients reach each target from every rank's loss
    (:func:`~..distributed.gather_rows`). Cost per step: one all-gather of M x
    ``embed_dim`` floats (and of the per-rank counts), and an N x M instead of
    N x N critic. BatchNorm in the adapters still uses each rank's own samples.

    ``share_target_adapter=True``: the distillers give every pair taught by
    the same target feature the first such pair's ``target_adapter`` (one
    module, one set of weights, trained by all those pairs' losses; its
    samples are embedded once per step, see :meth:`embed`). False: one
    adapter per pair.
    """

    share_target_adapter_default = False

    def __init__(self,
                 student_channels: int,
                 target_channels: int,
                 *,
                 embed_dim: int = 128,
                 critic=dict(type='separable'),
                 adapter='auto',
                 adapter_hidden: Optional[int] = None,
                 gather_negatives: bool = False,
                 share_target_adapter: Optional[bool] = None,
                 **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        if share_target_adapter is None:
            share_target_adapter = self.share_target_adapter_default
        if not isinstance(share_target_adapter, bool):
            raise ValueError('share_target_adapter must be True or False, '
                             f'got {share_target_adapter!r}')
        self.share_target_adapter = share_target_adapter
        self.embed_dim = check_positive_int(embed_dim, 'embed_dim')
        self.student_adapter = self._adapter(student_channels, embed_dim,
                                             adapter, adapter_hidden)
        self.target_adapter = self._adapter(target_channels, embed_dim,
                                            adapter, adapter_hidden)
        self.critic = build_critic(critic, embed_dim, embed_dim)
        if not isinstance(gather_negatives, bool):
            raise ValueError('gather_negatives must be True or False, got '
                             f'{gather_negatives!r}')
        self.gather_negatives = gather_negatives

    def embed(self,
              s: Tensor,
              t: Tensor,
              cache: Optional[dict] = None) -> Tuple[Tensor, Tensor]:
        """(z_s [N, embed_dim], z_t [N, embed_dim]). ``cache``: the step's
        dict shared by the pair losses; pairs whose target adapter is one
        module (``share_target_adapter``) and whose target samples are one
        tensor (:class:`~..sampling.PairSampler` shares them) embed the
        target once and reuse it."""
        z_s = self.student_adapter(s)
        if cache is None:
            return z_s, self.target_adapter(t)
        return z_s, step_cached(
            cache,
            ('target_embedding', id(self.target_adapter), tensor_key(t)),
            lambda: self.target_adapter(t), self.target_adapter, t)

    def scores(self, z_s: Tensor, z_t: Tensor) -> Tuple[Tensor, int]:
        """Critic scores [N, M] and the column offset of the positives
        (0 unless gathering)."""
        offset = 0
        if self.gather_negatives and self.training:
            z_t, offset = gather_rows(z_t)
        return self.critic(z_s, z_t), offset
