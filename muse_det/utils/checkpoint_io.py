"""Checkpoint reading and writing that neither runs pickled code nor leaves torn files.

Pure PyTorch (usable without MMEngine). ``muse_det.engine.checkpoint_safety`` routes MMEngine's
own load and save paths through these functions.

Reading is always ``torch.load(weights_only=True)``: the unpickler builds only tensors, plain
containers, torch's own types and the globals of :data:`SAFE_GLOBALS`; anything else (a payload
calling ``os.system``, ``builtins.getattr``...) is refused before it can run.
"""
import contextlib
import os
import os.path as osp
import pickle
import re
import secrets

import torch

# The allow-list: globals a checkpoint may name on top of torch's built-in safe set (tensors,
# storages, dtypes, ``torch.Size``, ``OrderedDict``, ``Counter``...). It is deliberately empty:
# every checkpoint muse-det saves holds only those (``muse_det.engine.message_hub_state``
# stores MMEngine's message hub as tensors and dicts instead of pickled ``HistoryBuffer``s and
# numpy objects). Add an entry only for a type whose construction from attacker-chosen
# arguments and state cannot reach code, with a comment saying why. Never add
# ``builtins.getattr`` (from an allowed class it reaches any attribute, e.g. a module's
# ``system``), ``eval``/``exec`` or anything from ``os``/``sys``/``subprocess``.
SAFE_GLOBALS = []

torch.serialization.add_safe_globals(SAFE_GLOBALS)

# Globals that plain MMEngine (without ``import muse_det``) pickles into a checkpoint's message
# hub; used only to word the refusal of such a file.
_MMENGINE_TRAINING_STATE = ('builtins.getattr', 'mmengine.logging.history_buffer', 'numpy.')


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs globals outside the allow-list (possibly a malicious payload)."""


def _unsafe_globals(path):
    """The globals the pickle in ``path`` names beyond the allowed ones, read without
    unpickling (``[]`` if the file is not a zip checkpoint)."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # legacy (non-zip) format or unreadable: the torch error says enough
        return []
    allowed = {f'{g.__module__}.{g.__qualname__}' for g in SAFE_GLOBALS}
    return sorted(set(names) - allowed)


def _refusal(path, error):
    names = _unsafe_globals(path)
    # torch's own message mostly advises weights_only=False; keep only the reason
    reason = re.search(r'(Unsupported [^\n]*|Trying to load [^\n]*)', str(error))
    why = f'its pickle names {", ".join(names)}, not on the allow-list' if names else \
        f'its pickle is refused ({reason.group(1) if reason else type(error).__name__})'
    if names and all(n.startswith(_MMENGINE_TRAINING_STATE) for n in names):
        hint = ('It looks like a checkpoint saved by MMEngine without muse_det imported (its '
                'message hub pickles HistoryBuffer methods through builtins.getattr): resume '
                'from one saved with muse_det imported or, if you trust this file, re-save only '
                "its 'meta' and 'state_dict' once and load that.")
    else:
        hint = ('It may carry code that runs on load. Use only checkpoints from a source you '
                'trust, and re-save a trusted one with plain tensors and containers (e.g. only '
                'its state_dict).')
    return UnsafeCheckpointError(
        f'refusing to load checkpoint {path}: {why}, so nothing from it was executed '
        f'(checkpoints are read with torch.load(weights_only=True), which builds only tensors, '
        f'plain containers and allow-listed types). {hint}')


def safe_load(path: str, map_location='cpu'):
    """``torch.load(path, weights_only=True)`` with a clear :class:`UnsafeCheckpointError`
    instead of a pickle trace when the file needs anything outside the allow-list."""
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:  # torch's refusal, with a long weights_only hint
        raise _refusal(path, e) from None


def _fsync_dir(folder):
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode: str = 'wb', **kwargs):
    """Open ``path`` for writing (``'w'`` or ``'wb'``) as a temp file in the same folder; on a
    clean exit flush, fsync and rename it over ``path``, then fsync the folder. A crash at any
    moment leaves either the old file or the complete new one (plus, at worst, a stray
    ``.<name>.*.tmp``); an exception removes the temp file and keeps the old one."""
    if mode not in ('w', 'wb'):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    path = osp.abspath(str(path))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{secrets.token_hex(6)}.tmp')
    # O_EXCL with 0o666: a fresh file with the permissions open() would give (umask applies)
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


def atomic_save(obj, path: str) -> None:
    """``torch.save`` through :func:`atomic_open`."""
    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)
