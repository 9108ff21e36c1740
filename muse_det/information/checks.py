"""Input validation and small shared helpers.

Every check raises ``ValueError`` whose message names the problem *and* the fix, because these
errors surface deep inside a training step where a bare shape mismatch is hard to trace back to a
config key.
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
    """``ValueError`` for an unknown ``name`` of ``kind``; lists ``valid`` names closest first."""
    valid = list(valid)
    key = str(name).lower()
    ranked = sorted(valid, key=lambda v: -difflib.SequenceMatcher(None, key, v.lower()).ratio())
    return ValueError(f'unknown {kind} {name!r}; valid options (closest first): '
                      f'{", ".join(repr(v) for v in ranked)}')


def check_choice(kind: str, value, valid: Iterable):
    """Return ``value`` if it is one of ``valid``, else raise :func:`unknown_name_error`."""
    valid = list(valid)
    if value not in valid:
        raise unknown_name_error(kind, value, [str(v) for v in valid])
    return value


def check_weight(value, name: str = 'loss_weight') -> float:
    """A finite, non-negative real number (bools are rejected: ``True`` is not a weight)."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f'{name} must be a non-negative number, got {value!r} '
                         f'({type(value).__name__}); set e.g. {name}=1.0')
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f'{name} must be a finite non-negative number, got {value}; '
                         f'use {name}=0 to switch the term off')
    return value


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')
    return int(value)


def check_finite(x: Tensor, name: str) -> None:
    # One device sync per call: worth it, because a NaN feature otherwise shows up many steps
    # later as a NaN loss with no hint of which layer produced it.
    if not bool(torch.isfinite(x).all()):
        bad = 'NaN' if bool(torch.isnan(x).any()) else 'Inf'
        raise ValueError(f'{name} contains {bad} values (shape {tuple(x.shape)}); the layer that '
                         f'produced it diverged: lower the learning rate or the loss weight, '
                         f'or enable gradient clipping')


def check_feature(x, name: str, ndims=(2, 4)) -> Tensor:
    """A tensor feature with ``ndim`` in ``ndims`` ([B, C] vector or [B, C, H, W] map)."""
    if not isinstance(x, Tensor):
        raise ValueError(f'{name} must be a torch.Tensor, got {type(x).__name__}')
    if x.ndim not in ndims:
        shapes = ' or '.join({2: '[B, C]', 3: '[N, ...]', 4: '[B, C, H, W]'}.get(n, f'{n}-D')
                             for n in ndims)
        raise ValueError(f'{name} must be {shapes}, got shape {tuple(x.shape)}; '
                         f'record a layer whose output has that shape')
    if not x.is_floating_point():
        raise ValueError(f'{name} must be a floating-point tensor, got {x.dtype}')
    return x


def check_pair(student: Tensor, target: Tensor, ndims=(2, 4)) -> None:
    """Student/target: valid features with the same batch size."""
    check_feature(student, 'student', ndims)
    check_feature(target, 'target', ndims)
    if student.shape[0] != target.shape[0]:
        raise ValueError(f'batch mismatch: student has {student.shape[0]} samples, target has '
                         f'{target.shape[0]}; both features must come from the same images')


def check_samples(z, name: str = 'z') -> Tensor:
    """Samples ``z`` [N, d] with N >= 2 (every estimator needs a second sample as reference)."""
    if not isinstance(z, Tensor) or z.ndim != 2:
        shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
        raise ValueError(f'{name} must be a [N, d] tensor of samples, got {shape}')
    if z.shape[0] < 2:
        raise ValueError(f'{name} has {z.shape[0]} sample(s); at least 2 are needed: raise the '
                         f'batch size or num_samples')
    return z


def check_scores(scores) -> Tensor:
    """A square [N, N] critic score matrix with N >= 2 (diagonal = positives)."""
    if not isinstance(scores, Tensor) or scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        shape = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f'scores must be a square [N, N] matrix (row i: student i against every '
                         f'target, diagonal = positives), got {shape}')
    if scores.shape[0] < 2:
        raise ValueError(f'scores is {scores.shape[0]}x{scores.shape[0]}; at least 2 samples are '
                         f'needed so that off-diagonal negatives exist: raise num_samples')
    return scores


# ---------------------------------------------------------------------------------------------
# fp32 island: log-det, log-sum-exp and cube sums lose all precision in fp16, so every estimator
# computes in fp32 whatever autocast or the input dtype say.

@contextlib.contextmanager
def fp32_island(device: Union[torch.device, str]):
    """Disable autocast for ``device``'s type inside the block."""
    device_type = torch.device(device).type
    try:
        ctx = torch.autocast(device_type=device_type, enabled=False)
    except RuntimeError:  # a device type autocast does not know: nothing to disable
        ctx = contextlib.nullcontext()
    with ctx:
        yield


def fp32(fn: Callable) -> Callable:
    """Decorator: cast floating tensor arguments to float32 and run ``fn`` without autocast."""
    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        device = next((a.device for a in args if isinstance(a, Tensor)), torch.device('cpu'))
        args = [a.float() if isinstance(a, Tensor) and a.is_floating_point() else a for a in args]
        with fp32_island(device):
            return fn(self, *args, **kwargs)
    return wrapper


# ---------------------------------------------------------------------------------------------
def build_from_table(kind: str, cfg, table: Mapping[str, type], **extra) -> nn.Module:
    """Build ``cfg`` -- a name, a ``dict(type=name, **kwargs)`` or a ready ``nn.Module`` -- from
    ``table``. ``extra`` kwargs (e.g. dimensions known only to the caller) are added; keys of a
    dict ``cfg`` win over them."""
    if isinstance(cfg, nn.Module):
        return cfg
    if isinstance(cfg, str):
        name, kwargs = cfg, {}
    elif isinstance(cfg, Mapping) and 'type' in cfg:
        kwargs = dict(cfg)
        name = kwargs.pop('type')
    else:
        raise ValueError(f'{kind} must be a name, a dict with a "type" key or an nn.Module, got '
                         f'{cfg!r}; valid names: {", ".join(table)}')
    if name not in table:
        raise unknown_name_error(kind, name, table)
    return table[name](**{**extra, **kwargs})
