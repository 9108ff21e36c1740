"""What every pair loss shares: validation, sampling, target detaching, the
fp32 island and the loss weight. Subclasses supply :meth:`PairLoss.embed`
(adapters) and :meth:`PairLoss.discrepancy` (the math); the critic losses
:meth:`CriticPairLoss.critic_terms` instead."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from .. import finite_watch
from ..adapters import build_adapter
from ..alignment import Boxes, Grid, ImageShapes, Offsets, Strides
from ..critics import build_critic
from ..distributed import gather_rows
from ..entropy.base import standardize
from ..precision import fp32_island
from ..recompute import check_recomputable, recomputed
from ..sampling import PairSampler
from ..step_cache import step_cached, tensor_key
from ..validation import check_pair, check_positive_int, check_weight

POOL_MODES = {None: 'auto', True: 'pool', False: 'locations'}


class PairLoss(nn.Module):
    """Base of the losses between one student feature and one target feature.

    ``forward(student, target)`` returns ``{'loss': weighted scalar to
    minimise, **detached logs}``. The features are sampled into paired
    vectors (or, for losses that compare whole maps, ``needs_maps``, aligned
    maps of :meth:`prepare`'d features) by a :class:`~..sampling.PairSampler`.

    Args:
        student_channels (int): C_s.
        target_channels (int): C_t.
        loss_weight (float): multiplies the loss; a plain attribute,
            re-validated every step because hooks change it. Defaults to 1.
        num_samples (int | str | None): locations per image
            (:class:`~..sampling.PairSampler`). Defaults to 256.
        grid (int | Sequence[int] | None): coarsen the aligned grid to at most
            that many locations per axis.
        pool (bool | None): None samples locations of maps and passes vectors
            through, True averages maps to one vector per image, False
            insists on maps.
        detach_target (bool): no gradient reaches the target feature (deep
            teaches shallow); modules applied to it after detaching still
            learn. Defaults to True.
        generator (torch.Generator, optional): CPU generator of the draws.
        strides (Sequence[float] | None): ``(S_s, S_t)`` in input pixels, so
            that a positive pair is one image point (the distillers measure
            them).
        fine_read (str): how the finer map is read, ``'window'`` (default)
            or ``'pixel'``.
        offsets (Sequence | None): each side's ``(dy, dx)``: pixel i looks at
            ``S * i + d`` (the distillers measure them).
        box_weight (float): >= 1; locations inside the ground-truth ``boxes``
            are that many times as likely to be drawn. Defaults to 1.
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
        """The settings shown in the module's ``repr``.

        Returns:
            str: ``student_channels``, ``target_channels``, ``loss_weight``
            and the sampler.
        """
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
        """The weighted loss of one feature pair.

        Args:
            student (Tensor): shape (B, C_s, H, W) or (B, C_s).
            target (Tensor): shape (B, C_t, H', W') or (B, C_t).
            img_shapes (Sequence[Sequence[int]], optional): each image's
                unpadded ``(h, w)`` in input pixels (detection batches are
                padded); padding is never sampled (map losses: masked out).
            check_finite (bool): read the device once to raise on a NaN/Inf
                input. False: the caller watches its features itself (the
                distillers do, without a device sync:
                :class:`~..finite_watch.FiniteWatch`). Defaults to True.
            draws (dict, optional): shared by the pair losses of one step, so
                pairs sampling the same grid share one draw
                (:meth:`~..sampling.PairSampler.__call__`).
            boxes (Sequence[Tensor], optional): per image, ground-truth boxes
                (n_i, 4) in input pixels, for ``box_weight``.

        Returns:
            dict[str, Tensor]: ``loss`` (scalar, times ``loss_weight``) and the
            loss's detached logged terms (scalars).
        """
        weight = check_weight(self.loss_weight)
        self.check_inputs(student, target)
        if check_finite:
            finite_watch.check_finite(student=student, target=target)
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
        """Raise ``ValueError`` naming the fix if the features do not fit.

        Args:
            student (Tensor): shape (B, C_s, ...).
            target (Tensor): shape (B, C_t, ...).
        """
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
        """Paired samples (or aligned maps) of the features: one call to
        the sampler.

        Args:
            student (Tensor): shape (B, C_s, H, W) or (B, C_s).
            target (Tensor): shape (B, C_t, H', W') or (B, C_t).
            img_shapes, draws, boxes: as in :meth:`forward`.

        Returns:
            tuple[Tensor, Tensor]: (N, C_s) and (N, C_t) samples, or, when
            ``needs_maps``, the :meth:`prepare`'d maps on one grid, (B, C', h,
            w) each.
        """
        if self.needs_maps:
            return self.sampler.aligned_maps(
                self.prepare(student), self.prepare(target), img_shapes)
        s, t = self.sampler(student, target, img_shapes, draws, boxes)
        if s.shape[0] < 2:
            raise ValueError(
                f'{s.shape[0]} sample(s) per step; at least 2 are needed '
                '(negatives, batch statistics): raise the batch size or '
                'num_samples')
        return s, t

    def prepare(self, x: Tensor) -> Tensor:
        """Map losses: a per-feature transform at native resolution, before
        alignment; the identity here.

        Args:
            x (Tensor): shape (B, C, H, W).

        Returns:
            Tensor: shape (B, C', H, W).
        """
        return x

    def embed(self,
              s: Tensor,
              t: Tensor,
              cache: Optional[dict] = None) -> Tuple[Tensor, Tensor]:
        """Adapters; the identity here.

        Args:
            s (Tensor): student samples, shape (N, C_s).
            t (Tensor): target samples, shape (N, C_t).
            cache (dict, optional): the step's dict shared by the pair losses.

        Returns:
            tuple[Tensor, Tensor]: ``z_s`` (N, d_s) and ``z_t`` (N, d_t).
        """
        return s, t

    def discrepancy(self, z_s: Tensor,
                    z_t: Tensor) -> Dict[str, Tensor]:  # pragma: no cover
        """The loss's math, in fp32.

        Args:
            z_s (Tensor): embedded student, shape (N, d_s) or a map.
            z_t (Tensor): embedded target, shape (N, d_t) or a map.

        Returns:
            dict[str, Tensor]: ``loss`` (unweighted scalar) and logged terms.
        """
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
    """Base of the losses that compare in the *target's own* space: only the
    student is adapted (to C_t channels).

    The target never passes through anything learnable: a learnable
    projection of a detached target could shrink to a constant that the
    student matches trivially. ``standardize_target = True`` (l2, vid) gives
    it zero mean and unit variance per channel over the N samples, as
    detection feature KD does, because a deep layer's scale grows during
    self-distillation (why: docs/method.md, "Baselines at their own
    recipes").

    Args:
        student_channels (int): C_s.
        target_channels (int): C_t.
        adapter (str | dict | nn.Module): the student adapter; ``'auto'``
            (default): a Linear for pooled vectors, an MLP otherwise.
        adapter_hidden (int, optional): the MLP's hidden width.
        **kwargs: :class:`PairLoss`'s options.
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
        """The adapted student and the (optionally standardised) target.

        Args:
            s (Tensor): shape (N, C_s).
            t (Tensor): shape (N, C_t).
            cache (dict, optional): unused.

        Returns:
            tuple[Tensor, Tensor]: both of shape (N, C_t).
        """
        return self.adapter(s), standardize(
            t) if self.standardize_target else t


class CriticPairLoss(PairLoss):
    """Base of the losses that adapt both sides to ``embed_dim`` and score all
    pairs with a critic (MUSE, CRD).

    Both adapters learn; with ``detach_target`` the target adapter still
    trains (it sits after the detach), so the shared embedding space is learnt
    from both ends. BatchNorm in the adapters uses each rank's own samples.

    Args:
        student_channels (int): C_s.
        target_channels (int): C_t.
        embed_dim (int): d of the shared embedding. Defaults to 128.
        critic (str | dict | nn.Module): scores (N, d) x (M, d) -> (N, M)
            (:mod:`~..critics`). Defaults to ``dict(type='separable')``.
        adapter (str | dict | nn.Module): both adapters; ``'auto'``: a Linear
            for pooled vectors, an MLP otherwise.
        adapter_hidden (int, optional): the MLP's hidden width.
        gather_negatives (bool): in training under torch.distributed, score
            each rank's N positives against the M targets of the global batch
            ((N, M) scores, positives at the rank's offset; gradients reach
            each target from every rank's loss,
            :func:`~..distributed.gather_rows`), so the estimate and its
            log M ceiling do not depend on how many GPUs share the batch.
            Costs one all-gather of M x ``embed_dim`` floats per step.
            Defaults to False.
        share_target_adapter (bool, optional): the distillers give every pair
            taught by the same target feature the first such pair's
            ``target_adapter`` (one module trained by all those pairs; its
            samples are embedded once per step, :meth:`embed_target`).
            False: one adapter per pair. None: the class's
            ``share_target_adapter_default``.
        with_cp (bool): keep none of the student side's activations
            (student adapter, critic, estimators) for backward and recompute
            them there (``torch.utils.checkpoint``), as mmcv's ``with_cp``
            does for backbone blocks: the same loss and gradients for less
            memory and a second forward of the student side. The
            recomputation starts from the state (BatchNorm statistics, an
            estimator's moving average) the first forward saw, and the state
            is updated once (:func:`~..recompute.recomputed`). Not with
            ``gather_negatives`` or SyncBatchNorm adapters (collectives inside
            backward). Defaults to False.
        **kwargs: :class:`PairLoss`'s options.
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
                 with_cp: bool = False,
                 **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        if not isinstance(with_cp, bool):
            raise ValueError(f'with_cp must be True or False, got {with_cp!r}')
        if with_cp and gather_negatives:
            # the recomputation would run the all-gather a second time,
            # inside backward, beside DDP's own collectives
            raise ValueError(
                'with_cp=True recomputes the critic in backward and cannot '
                'repeat gather_negatives\' all-gather there; set one of them '
                'to False')
        self.with_cp = with_cp
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

    def embed_target(self, t: Tensor, cache: Optional[dict] = None) -> Tensor:
        """The target side in the shared embedding space.

        Args:
            t (Tensor): target samples, shape (N, C_t).
            cache (dict, optional): the step's dict shared by the pair losses;
                pairs whose target adapter is one module and whose target
                samples are one tensor (the sampler shares them) embed the
                target once.

        Returns:
            Tensor: ``z_t``, shape (N, embed_dim).
        """
        if cache is None:
            return self.target_adapter(t)
        return step_cached(
            cache,
            ('target_embedding', id(self.target_adapter), tensor_key(t)),
            lambda: self.target_adapter(t), self.target_adapter, t)

    def pair_loss(self,
                  s: Tensor,
                  t: Tensor,
                  cache: Optional[dict] = None) -> Dict[str, Tensor]:
        """Embed the target (shared by the pairs that share it), then the
        student side, recomputed in backward with ``with_cp``.

        Args:
            s (Tensor): student samples, shape (N, C_s).
            t (Tensor): target samples, shape (N, C_t).
            cache (dict, optional): see :meth:`embed_target`.

        Returns:
            dict: ``loss`` (unweighted scalar) and logged terms.
        """
        z_t = self.embed_target(t, cache)
        if self.with_cp and torch.is_grad_enabled():
            # checked here, not at build: sync_bn converts after building
            check_recomputable(self, type(self).__name__)
            return recomputed(self._student_side, self, s, z_t)
        return self._student_side(s, z_t)

    def _student_side(self, s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        z_s = self.student_adapter(s)
        with fp32_island(z_s.device):
            return self.critic_terms(s, z_s.float(), z_t.float())

    def critic_terms(self, s: Tensor, z_s: Tensor,
                     z_t: Tensor) -> Dict[str, Tensor]:
        """The loss's math in fp32, from both embeddings (and the raw student
        samples, for losses that also measure the student itself).

        Args:
            s (Tensor): raw student samples, shape (N, C_s).
            z_s (Tensor): student embeddings, shape (N, embed_dim), fp32.
            z_t (Tensor): target embeddings, shape (N, embed_dim), fp32.

        Returns:
            dict: ``loss`` (unweighted scalar) and logged terms.
        """
        return self.discrepancy(z_s, z_t)

    def scores(self, z_s: Tensor, z_t: Tensor) -> Tuple[Tensor, int]:
        """Critic scores of every student against every target.

        Args:
            z_s (Tensor): shape (N, d).
            z_t (Tensor): shape (N, d).

        Returns:
            tuple[Tensor, int]: scores (N, M), M = N unless gathering
            negatives, and the column offset of the positives (row i's
            positive at ``offset + i``).
        """
        offset = 0
        if self.gather_negatives and self.training:
            z_t, offset = gather_rows(z_t)
        return self.critic(z_s, z_t), offset
