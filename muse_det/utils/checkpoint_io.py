"""Checkpoint reading and writing that neither runs pickled code nor leaves
torn files.

Reading is always ``torch.load(weights_only=True)``: the unpickler builds only
tensors, plain containers, torch's own types and, for the duration of one
:func:`safe_load` call, the training state stock MMEngine pickles (see
:data:`MMENGINE_STATE_GLOBALS`); anything else (a payload calling
``os.system``, ``builtins.getattr`` on anything but a ``HistoryBuffer``
statistic...) is refused before it can run.

Writing goes through :func:`atomic_open`: a temp file in the target's folder,
fsync, rename.
"""
import contextlib
import glob
import os
import os.path as osp
import pickle
import re
import secrets

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

# numpy >= 2 (its pickles name numpy._core, numpy 1.x pickles name numpy.core)
try:
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy 1.x
    from numpy.core import multiarray as _multiarray

# The statistics HistoryBuffer defines as methods; protocol-2 pickles of its
# state name them as ``builtins.getattr(HistoryBuffer, '<name>')``.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_statistic(owner, name):
    """Stand-in for ``builtins.getattr`` while a checkpoint is read: resolves
    only ``getattr(HistoryBuffer, s)`` for the statistics ``s`` of
    :data:`HISTORY_BUFFER_STATISTICS` and refuses everything else, so a pickle
    cannot reach any other attribute through it."""
    if owner is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    what = getattr(owner, '__qualname__', type(owner).__name__)
    raise pickle.UnpicklingError(
        f'Unsupported global: builtins.getattr({what}, {name!r}) is not a '
        'HistoryBuffer statistic')


def _numpy_globals():
    """numpy's array, dtype and scalar reconstructors under the names numpy 1.x
    and 2.x pickle them with. Each builds an array, dtype or scalar from the
    bytes and already unpickled (allowed) objects it is given, and calls
    nothing else."""
    entries = [(np.ndarray, 'numpy.ndarray'), (np.dtype, 'numpy.dtype')]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        entries += [(_multiarray._reconstruct, f'{module}._reconstruct'),
                    (_multiarray.scalar, f'{module}.scalar')]
    # dtype classes (numpy.dtypes.Float64DType...) are named when a dtype's
    # type is pickled
    entries += [(type(np.dtype(t)),
                 f'numpy.dtypes.{type(np.dtype(t)).__name__}')
                for t in (np.float16, np.float32, np.float64, np.int8,
                          np.int16, np.int32, np.int64, np.uint8, np.bool_)]
    return entries


# What stock MMEngine pickles into a checkpoint (its message hub: HistoryBuffer
# objects with numpy arrays and, through HistoryBuffer.__getstate__, the
# statistics methods; numpy scalars in the runtime info), allowed only while
# safe_load reads a file. ``builtins.getattr`` is allowed in name only: the
# name maps to :func:`history_buffer_statistic`. Never allow the real
# ``getattr`` (from an allowed class it reaches any attribute, e.g. a module's
# ``system``), ``eval``/``exec`` or anything from
# ``os``/``sys``/``subprocess``.
MMENGINE_STATE_GLOBALS = [
    HistoryBuffer, (history_buffer_statistic, 'builtins.getattr'),
    *_numpy_globals()
]


def _global_name(entry) -> str:
    if isinstance(entry, tuple):
        return entry[1]
    return f'{entry.__module__}.{entry.__qualname__}'


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs globals outside the allow-list (possibly a malicious
    payload)."""


def _unsafe_globals(path):
    """The globals the pickle in ``path`` names beyond the allowed ones, read
    without unpickling (``[]`` if the file is not a zip checkpoint)."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    # legacy (non-zip) format or unreadable: the torch error says enough
    except Exception:
        return []
    allowed = {_global_name(g) for g in MMENGINE_STATE_GLOBALS}
    return sorted(set(names) - allowed)


def _refusal(path, error):
    names = _unsafe_globals(path)
    # torch's message mostly advises weights_only=False; keep the reason only
    reason = re.search(r'(Unsupported [^\n]*|Trying to [^\n]*)', str(error))
    reason = reason.group(1) if reason else type(error).__name__
    if names:
        why = f'its pickle names {", ".join(names)}, not on the allow-list'
    else:
        why = f'its pickle is refused ({reason})'
    return UnsafeCheckpointError(
        f'refusing to load checkpoint {path}: {why}, so nothing from it was '
        'executed (checkpoints are read with torch.load(weights_only=True), '
        'which builds only tensors, plain containers and allow-listed '
        'types). It may carry code that runs on load. Use only checkpoints '
        'from a source you trust, and re-save a trusted one with plain '
        'tensors and containers (e.g. only its state_dict).')


@contextlib.contextmanager
def _mmengine_state_allowed():
    """Allow :data:`MMENGINE_STATE_GLOBALS` for one load. Entries the process
    already allows stay allowed afterwards; ``HistoryBuffer``'s class-wide
    statistics table, which its ``__setstate__`` updates from the file, is
    restored."""
    present = set(torch.serialization.get_safe_globals())
    added = [g for g in MMENGINE_STATE_GLOBALS if g not in present]
    statistics = dict(HistoryBuffer._statistics_methods)
    try:
        with torch.serialization.safe_globals(added):
            yield
    finally:
        HistoryBuffer._statistics_methods.clear()
        HistoryBuffer._statistics_methods.update(statistics)


def safe_load(path: str, map_location='cpu'):
    """``torch.load(path, weights_only=True)`` that also reads the training
    state of stock MMEngine checkpoints, with a clear
    :class:`UnsafeCheckpointError` instead of a pickle trace when the file
    needs anything else."""
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        with _mmengine_state_allowed():
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:  # torch's refusal, a long hint
        raise _refusal(path, e) from None


def _fsync_dir(folder):
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(path: str, tag: str) -> str:
    return osp.join(osp.dirname(path), f'.{osp.basename(path)}.{tag}.tmp')


@contextlib.contextmanager
def atomic_open(path, mode: str = 'wb', **kwargs):
    """Open ``path`` for writing (``'w'`` or ``'wb'``) as a temp file in the
    same folder; on a clean exit flush, fsync and rename it over ``path``, then
    fsync the folder. A crash at any moment leaves either the old file or the
    complete new one (plus, at worst, a stray ``.<name>.<random>.tmp``, see
    :func:`remove_stray_temp_files`); an exception removes the temp file and
    keeps the old one."""
    if mode not in ('w', 'wb'):
        raise ValueError(
            f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    path = osp.abspath(str(path))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = _temp_name(path, secrets.token_hex(6))
    # O_EXCL with 0o666: a fresh file with the permissions open() would give
    # (umask applies)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


def remove_stray_temp_files(folder: str) -> list:
    """Remove the temp files :func:`atomic_open` left in ``folder`` when a
    process was killed mid-write (``.<name>.<12 hex digits>.tmp``); returns the
    removed paths."""
    pattern = osp.join(
        glob.escape(osp.abspath(str(folder))),
        _temp_name('*', '[0-9a-f]' * 12))
    removed = []
    for tmp in sorted(glob.glob(pattern)):
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
            removed.append(tmp)
    return removed


def atomic_save(obj, path: str) -> None:
    """``torch.save`` through :func:`atomic_open`."""
    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)
