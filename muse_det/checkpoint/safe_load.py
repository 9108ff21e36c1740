"""Checkpoint reading that never runs pickled code.

Reading is always ``torch.load(weights_only=True)``: the unpickler builds only
tensors, plain containers, torch's own types and, for the duration of one
:func:`safe_load` call, the training state stock MMEngine pickles (see
:data:`MMENGINE_STATE_GLOBALS`); anything else (a payload calling
``os.system``, ``builtins.getattr`` on anything but a ``HistoryBuffer``
statistic...) is refused before it can run.
"""
import codecs
import contextlib
import os.path as osp
import pickle
import pickletools
import re
import zipfile
from typing import Callable, List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.utils import digit_version

from ..errors import MissingFileError, MuseDetError

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
    cannot reach any other attribute through it.

    Args:
        owner (object): what the pickle calls ``getattr`` on.
        name (str): the attribute's name.

    Returns:
        Callable: the statistic method ``HistoryBuffer.<name>``.

    Raises:
        pickle.UnpicklingError: anything but a ``HistoryBuffer`` statistic.
    """
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


class UnsafeCheckpointError(MuseDetError, RuntimeError):
    """A checkpoint needs globals outside the allow-list (possibly a malicious
    payload)."""


# torch 2.6 made ``torch.load`` weights-only by default and lets allow-list
# entries carry the name a pickle uses, ``(obj, 'module.name')``; torch 2.4 and
# 2.5 key the allow-list by ``obj.__module__`` and ``obj.__name__`` only, and
# 2.4 cannot list a checkpoint's globals. muse-det passes
# ``weights_only=True`` on every version; what differs is decided here alone.
NAMED_ALLOW_LIST = digit_version(torch.__version__) >= digit_version('2.6.0')
# What torch >= 2.5 allows by default and torch 2.4 does not: the byte
# strings of protocol-2 pickles (numpy arrays' data) are rebuilt with
# ``_codecs.encode(str, 'latin1')``, which only encodes a string.
OLDER_TORCH_DEFAULTS = [codecs.encode]  # named _codecs.encode


def _renamed(fn: Callable, name: str) -> Callable:
    """``fn`` under the dotted ``name`` a pickle uses for it, for torch
    versions that look allow-list entries up by ``__module__`` and
    ``__name__``."""
    module, _, short = name.rpartition('.')

    def call(*args, **kwargs):
        return fn(*args, **kwargs)

    call.__module__, call.__name__, call.__qualname__ = module, short, short
    return call


def allow_list_entries(entries: list, named: bool = NAMED_ALLOW_LIST) -> list:
    """``entries`` (objects, or ``(obj, 'module.name')`` pairs) in the form
    the running torch's allow-list takes.

    Args:
        entries (list): allow-list entries, as
            :data:`MMENGINE_STATE_GLOBALS`.
        named (bool): whether torch takes ``(obj, name)`` pairs (torch >=
            2.6). Defaults to :data:`NAMED_ALLOW_LIST`.

    Returns:
        list: ``entries`` unchanged where pairs are taken; otherwise each pair
        as its object when the object's own name is the pair's, as a renamed
        forwarding function for a function under another name, and left out
        for a class under another name (a pickle naming it is then refused);
        plus :data:`OLDER_TORCH_DEFAULTS`.
    """
    if named:
        return list(entries)
    plain = []
    for entry in entries:
        if not isinstance(entry, tuple):
            plain.append(entry)
            continue
        obj, name = entry
        if f'{obj.__module__}.{obj.__name__}' == name:
            plain.append(obj)
        elif not isinstance(obj, type):
            plain.append(_renamed(obj, name))
    return plain + OLDER_TORCH_DEFAULTS


@contextlib.contextmanager
def allowed_globals(entries: list, named: bool = NAMED_ALLOW_LIST):
    """Allow ``entries`` for ``torch.load(weights_only=True)`` inside the
    block only: entries the process already allowed stay allowed, nothing
    else is left behind.

    Args:
        entries (list): allow-list entries, as
            :data:`MMENGINE_STATE_GLOBALS`.
        named (bool): whether torch takes ``(obj, name)`` pairs and has the
            ``safe_globals`` context manager (torch >= 2.6). Defaults to
            :data:`NAMED_ALLOW_LIST`.
    """
    previous = list(torch.serialization.get_safe_globals())
    added = [
        e for e in allow_list_entries(entries, named) if e not in previous
    ]
    if named:
        with torch.serialization.safe_globals(added):
            yield
        return
    torch.serialization.add_safe_globals(added)
    try:
        yield
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(previous)


def _pickle_globals(path: str) -> List[str]:
    """The globals (``module.name``) the pickle of the zip checkpoint at
    ``path`` names, read from its opcodes without unpickling."""
    with zipfile.ZipFile(path) as archive:
        member = next(n for n in archive.namelist()
                      if n == 'data.pkl' or n.endswith('/data.pkl'))
        data = archive.read(member)
    from torch._utils import IMPORT_MAPPING, NAME_MAPPING
    names, strings, proto = [], [], 0
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name == 'PROTO':
            proto = arg
        elif opcode.name == 'GLOBAL':
            module, name = arg.split(' ', 1)
            # Python 2 names, which torch's unpickler maps the same way
            if proto <= 2:
                module, name = NAME_MAPPING.get((module, name), (module, name))
                module = IMPORT_MAPPING.get(module, module)
            names.append(f'{module}.{name}')
        elif opcode.name == 'STACK_GLOBAL' and len(strings) >= 2:
            names.append(f'{strings[-2]}.{strings[-1]}')
        if isinstance(arg, str):
            strings.append(arg)
    return names


def unsafe_globals_in(path: str,
                      named: bool = NAMED_ALLOW_LIST) -> Optional[List[str]]:
    """The globals the pickle of the checkpoint at ``path`` names that torch
    does not allow by default, read without unpickling (torch's
    ``get_unsafe_globals_in_checkpoint`` where torch >= 2.6, the pickle's
    opcodes otherwise).

    Args:
        path (str): a checkpoint in torch's zip format.
        named (bool): whether torch >= 2.6's listing is used. Defaults to
            :data:`NAMED_ALLOW_LIST`.

    Returns:
        list or None: the names, sorted; None if ``path`` is not a zip
        checkpoint.
    """
    try:
        if named:
            names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        else:
            from torch._weights_only_unpickler import _get_allowed_globals
            allowed = set(_get_allowed_globals()) | {
                _global_name(g)
                for g in OLDER_TORCH_DEFAULTS
            }
            names = [n for n in _pickle_globals(path) if n not in allowed]
    # legacy (non-zip) format or unreadable: the torch error says enough
    except Exception:
        return None
    return sorted(set(names))


def _unsafe_globals(path):
    """The globals the pickle in ``path`` names beyond the allowed ones, read
    without unpickling (``[]`` if the file is not a zip checkpoint)."""
    allowed = {_global_name(g) for g in MMENGINE_STATE_GLOBALS}
    return sorted(set(unsafe_globals_in(path) or []) - allowed)


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
    statistics = dict(HistoryBuffer._statistics_methods)
    try:
        with allowed_globals(MMENGINE_STATE_GLOBALS):
            yield
    finally:
        HistoryBuffer._statistics_methods.clear()
        HistoryBuffer._statistics_methods.update(statistics)


def safe_load(path: str, map_location='cpu'):
    """``torch.load(path, weights_only=True)`` that also reads the training
    state of stock MMEngine checkpoints, with a clear
    :class:`UnsafeCheckpointError` instead of a pickle trace when the file
    needs anything else.

    Args:
        path (str | PathLike): the checkpoint file; ``~`` is expanded.
        map_location (str | torch.device | Callable | dict): as
            ``torch.load`` takes it. Defaults to ``'cpu'``.

    Returns:
        Any: the loaded object, e.g. MMEngine's ``{'meta', 'state_dict',
        'message_hub', 'optimizer', ...}`` or a bare state dict.

    Raises:
        MissingFileError: ``path`` is not a file.
        UnsafeCheckpointError: the pickle needs globals outside the
            allow-list; nothing from it was run.
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise MissingFileError(f'checkpoint not found: {path}')
    try:
        with _mmengine_state_allowed():
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:  # torch's refusal, a long hint
        raise _refusal(path, e) from None
