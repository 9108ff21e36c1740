"""Argument validation: every check raises ``ValueError`` whose message names
the problem *and* the fix.

These errors surface deep inside a training step, where a bare shape mismatch
is hard to trace back to the config key that caused it.
"""
import difflib
import math
import numbers
from typing import Iterable

from torch import Tensor


def unknown_name_error(kind: str, name, valid: Iterable[str]) -> ValueError:
    """The error for an unknown name, listing the valid ones closest first.

    Args:
        kind (str): what was named, e.g. ``'mi_estimator'``.
        name: the name given.
        valid (Iterable[str]): the names that exist.

    Returns:
        ValueError: to be raised by the caller.
    """
    valid = list(valid)
    key = str(name).lower()
    ranked = sorted(
        valid,
        key=lambda v: -difflib.SequenceMatcher(None, key, v.lower()).ratio())
    return ValueError(
        f'unknown {kind} {name!r}; valid options (closest first): '
        f'{", ".join(repr(v) for v in ranked)}')


def check_choice(kind: str, value, valid: Iterable):
    """Check that ``value`` is one of ``valid``.

    Args:
        kind (str): what is chosen, for the error message.
        value: the choice.
        valid (Iterable): the allowed values.

    Returns:
        ``value``; raises :func:`unknown_name_error`'s error otherwise.
    """
    valid = list(valid)
    if value not in valid:
        raise unknown_name_error(kind, value, [str(v) for v in valid])
    return value


def check_weight(value, name: str = 'loss_weight') -> float:
    """Check a loss weight: a finite, non-negative real number.

    Args:
        value (float | Tensor): a number or a one-element tensor; bools are
            rejected (``True`` is not a weight).
        name (str): the option's name, for the error message.

    Returns:
        float: the weight.
    """
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
    """Check a positive integer option (bools are rejected).

    Args:
        value (int): the option's value.
        name (str): the option's name, for the error message.

    Returns:
        int: the value.
    """
    if isinstance(
            value,
            bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')
    return int(value)


def check_feature(x, name: str, ndims=(2, 4)) -> Tensor:
    """Check a feature: a floating-point tensor of an accepted rank.

    Args:
        x (Tensor): the feature, e.g. (B, C) vectors or a (B, C, H, W) map.
        name (str): its name, for the error message.
        ndims (Sequence[int]): the accepted ranks. Defaults to (2, 4).

    Returns:
        Tensor: ``x``.
    """
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
    """Check a student and a target feature: valid, and of one batch.

    Args:
        student (Tensor): shape (B, C_s, ...).
        target (Tensor): shape (B, C_t, ...).
        ndims (Sequence[int]): the accepted ranks. Defaults to (2, 4).
    """
    check_feature(student, 'student', ndims)
    check_feature(target, 'target', ndims)
    if student.shape[0] != target.shape[0]:
        raise ValueError(
            f'batch mismatch: student has {student.shape[0]} samples, target '
            f'has {target.shape[0]}; both features must come from the same '
            'images')


def check_samples(z, name: str = 'z') -> Tensor:
    """Check samples for an estimator: at least two rows, since every
    estimator needs a second sample as reference.

    Args:
        z (Tensor): samples, shape (N, d), N >= 2.
        name (str): their name, for the error message.

    Returns:
        Tensor: ``z``.
    """
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
    """Check a critic score matrix.

    Args:
        scores (Tensor): shape (N, M): row i scores student i against every
            target; M > N when other ranks' targets are gathered as extra
            negatives. At least 2 targets, so that negatives exist.
        offset (int): row i's positive is at column ``offset + i`` (0 and a
            square matrix: the diagonal).

    Returns:
        Tensor: ``scores``.
    """
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
