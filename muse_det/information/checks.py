"""Input validation and small shared helpers.

Every check raises ``ValueError`` whose message names the problem *and* the
fix, because these errors surface deep inside a training step where a bare
shape mismatch is hard to trace back to a config key.
"""
import contextlib
import difflib
import functools
import math
import numbers
from typing import Callable, Iterable, Mapping, Union

import torch
from torch import Tensor, nn


def unknown_name_error(kind: str, name, valid: Iterable[str]) -> ValueError:
    """``ValueError`` for an unknown ``name`` of ``kind``; lists ``valid``
    names closest first."""
    valid = list(valid)
    key = str(name).lower()
    ranked = sorted(
        valid,
        key=lambda v: -difflib.SequenceMatcher(None, key, v.lower()).ratio())
    return ValueError(
        f'unknown {kind} {name!r}; valid options (closest first): '
        f'{", ".join(repr(v) for v in ranked)}')


def check_choice(kind: str, value, valid: Iterable):
    """Return ``value`` if it is one of ``valid``, else
    raise :func:`unknown_name_error`."""
    valid = list(valid)
    if value not in valid:
        raise unknown_name_error(kind, value, [str(v) for v in valid])
    return value


def check_weight(value, name: str = 'loss_weight') -> float:
    """A finite, non-negative real number (bools are rejected: ``True`` is
    not a weight)."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f'{name} must be a non-negative number, got {value!r} '
            f'({type(value).__name__}); set e.g. {name}=1.0')
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f'{name} must be a finite non-negative number, got {value}; '
            f'use {name}=0 to switch the term off')
    return value


def check_positive_int(value, name: str) -> int:
    if isinstance(
            value,
            bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')
    return int(value)


def non_finite_message(name: str, kind: str, shape) -> str:
    return (f'{name} contains {kind} values (shape {tuple(shape)}); the layer '
            'that produced it diverged: lower the learning rate or the loss '
            'weight, or enable gradient clipping')


class FiniteWatch:
    """NaN/Inf detection that never waits for the device while training.

    ``record(key, x)`` keeps ``aminmax(x)`` as two 0-d tensors on x's device
    (one reduction, no copy of x): a NaN anywhere makes both NaN, an Inf makes
    one of them infinite, so NaN and Inf are told apart exactly (a sum could
    overflow on large finite values). Nothing is read until
    :meth:`first_non_finite`, one device sync for everything recorded, which a
    training loop calls only once something downstream (the step's loss) is
    known to be non-finite: a NaN feature then still fails with the layer's
    name, and a healthy step costs no sync. ``clear()`` starts a new step.
    """

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self._records = []

    def record(self, key, x: Tensor) -> None:
        if x.numel():
            self._records.append(
                (key, tuple(x.shape), torch.aminmax(x.detach())))

    def first_non_finite(self):
        """(key, 'NaN' or 'Inf', shape) of the first recorded tensor that is
        not finite, or None. Reads the device once."""
        if not self._records:
            return None
        values = torch.stack([
            v.float() for _, _, extremes in self._records for v in extremes
        ]).tolist()
        for i, (key, shape, _) in enumerate(self._records):
            low, high = values[2 * i], values[2 * i + 1]
            if math.isnan(low) or math.isnan(high):
                return key, 'NaN', shape
            if math.isinf(low) or math.isinf(high):
                return key, 'Inf', shape
        return None

    def check(self) -> None:
        """Raise ``ValueError`` naming the first non-finite tensor
        (keys are its name)."""
        bad = self.first_non_finite()
        if bad is not None:
            raise ValueError(non_finite_message(*bad))


def check_finite(**named: Tensor) -> None:
    """Eager check of ``name=tensor`` arguments: one device sync for all of
    them. For use outside a training step; training loops record into a
    :class:`FiniteWatch` instead."""
    watch = FiniteWatch()
    for name, x in named.items():
        watch.record(name, x)
    watch.check()


def check_feature(x, name: str, ndims=(2, 4)) -> Tensor:
    """A tensor feature with ``ndim`` in ``ndims`` ([B, C] vector or
    [B, C, H, W] map)."""
    if not isinstance(x, Tensor):
        raise ValueError(
            f'{name} must be a torch.Tensor, got {type(x).__name__}')
    if x.ndim not in ndims:
        shapes = ' or '.join({
            2: '[B, C]',
            3: '[N, ...]',
            4: '[B, C, H, W]'
        }.get(n, f'{n}-D') for n in ndims)
        raise ValueError(
            f'{name} must be {shapes}, got shape {tuple(x.shape)}; '
            f'record a layer whose output has that shape')
    if not x.is_floating_point():
        raise ValueError(
            f'{name} must be a floating-point tensor, got {x.dtype}')
    return x


def check_pair(student: Tensor, target: Tensor, ndims=(2, 4)) -> None:
    """Student/target: valid features with the same batch size."""
    check_feature(student, 'student', ndims)
    check_feature(target, 'target', ndims)
    if student.shape[0] != target.shape[0]:
        raise ValueError(
            f'batch mismatch: student has {student.shape[0]} samples, target '
            f'has {target.shape[0]}; both features must come from the same '
            'images')


def check_samples(z, name: str = 'z') -> Tensor:
    """Samples ``z`` [N, d] with N >= 2 (every estimator needs a second sample
    as reference)."""
    if not isinstance(z, Tensor) or z.ndim != 2:
        shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
        raise ValueError(
            f'{name} must be a [N, d] tensor of samples, got {shape}')
    if z.shape[0] < 2:
        raise ValueError(
            f'{name} has {z.shape[0]} sample(s); at least 2 are needed: raise '
            'the batch size or num_samples')
    return z


def check_scores(scores, offset: int = 0) -> Tensor:
    """A critic score matrix [N, M]: row i scores student i against every
    target, its positive at column ``offset + i`` (square, offset 0: the
    diagonal; M > N when the targets of other ranks are gathered as extra
    negatives). At least 2 targets, so that negatives exist."""
    if not isinstance(scores, Tensor) or scores.ndim != 2:
        shape = tuple(scores.shape) if isinstance(
            scores, Tensor) else type(scores).__name__
        raise ValueError(
            f'scores must be a [N, M] matrix (row i: student i against every '
            f'target, positive at column offset + i), got {shape}')
    n, m = scores.shape
    if isinstance(
            offset,
            bool) or not isinstance(offset, int) or not 0 <= offset <= m - n:
        raise ValueError(
            f'positive offset {offset!r} does not fit a {n}x{m} score matrix: '
            f'need 0 <= offset <= {m - n}')
    if n < 1 or m < 2:
        raise ValueError(
            f'scores is {n}x{m}; at least 2 samples are needed so that '
            f'negatives exist: raise num_samples')
    return scores


# -----------------------------------------------------------------------------
# fp32 island: log-det, log-sum-exp and cube sums lose all precision in fp16,
# so every estimator computes in fp32 whatever autocast or the input dtype say.


@contextlib.contextmanager
def fp32_island(device: Union[torch.device, str]):
    """Disable autocast for ``device``'s type inside the block."""
    device_type = torch.device(device).type
    try:
        ctx = torch.autocast(device_type=device_type, enabled=False)
    except RuntimeError:
        # a device type autocast does not know: nothing to disable
        ctx = contextlib.nullcontext()
    with ctx:
        yield


def fp32(fn: Callable) -> Callable:
    """Decorator: cast floating tensor arguments to float32 and run ``fn``
    without autocast."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        device = next((a.device for a in args if isinstance(a, Tensor)),
                      torch.device('cpu'))
        args = [
            a.float() if isinstance(a, Tensor) and a.is_floating_point() else a
            for a in args
        ]
        with fp32_island(device):
            return fn(self, *args, **kwargs)

    return wrapper


# -----------------------------------------------------------------------------
def build_from_table(kind: str, cfg, table: Mapping[str, type],
                     **extra) -> nn.Module:
    """Build ``cfg`` -- a name, a ``dict(type=name, **kwargs)`` or a ready
    ``nn.Module`` -- from ``table``. ``extra`` kwargs (e.g. dimensions known
    only to the caller) are added; keys of a dict ``cfg`` win over them."""
    if isinstance(cfg, nn.Module):
        return cfg
    if isinstance(cfg, str):
        name, kwargs = cfg, {}
    elif isinstance(cfg, Mapping) and 'type' in cfg:
        kwargs = dict(cfg)
        name = kwargs.pop('type')
    else:
        raise ValueError(
            f'{kind} must be a name, a dict with a "type" key or an '
            f'nn.Module, got {cfg!r}; valid names: {", ".join(table)}')
    if name not in table:
        raise unknown_name_error(kind, name, table)
    return table[name](**{**extra, **kwargs})
