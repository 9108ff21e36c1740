"""Crash-safe checkpoint files: a kill at any moment leaves the previous checkpoint and
``last_checkpoint`` loadable.

Importing this module changes three things in MMEngine:

1. ``AtomicLocalBackend`` becomes the ``'local'`` file backend (prefix ``''``), so every local
   ``put``/``put_text`` (``save_checkpoint`` writes through ``put``) is temp file + fsync + rename.
2. ``CheckpointHook`` writes ``last_checkpoint`` the same way (it calls plain ``open``).
3. ``CheckpointHook`` deletes checkpoints beyond ``max_keep_ckpts`` only after the new checkpoint
   and ``last_checkpoint`` are written. MMEngine deletes first, so with ``max_keep_ckpts=1`` a
   kill in between leaves ``last_checkpoint`` naming a deleted file.
"""
import builtins

from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook, checkpoint_hook

from muse_det.utils.checkpoint_io import atomic_open


class AtomicLocalBackend(LocalBackend):
    """MMEngine's ``LocalBackend`` whose writes replace files atomically."""

    def put(self, obj: bytes, filepath) -> None:
        with atomic_open(filepath, 'wb') as f:
            f.write(obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        with atomic_open(filepath, 'w', encoding=encoding) as f:
            f.write(obj)


def _open(file, mode='r', *args, **kwargs):
    """``open`` as ``CheckpointHook``'s module sees it: whole-file writes are atomic."""
    if mode in ('w', 'wb'):
        return atomic_open(file, mode, **kwargs)
    return builtins.open(file, mode, *args, **kwargs)


def _removing_after_save(save_with_step):
    """Wrap ``CheckpointHook._save_checkpoint_with_step`` to defer its deletions until the new
    checkpoint and ``last_checkpoint`` are on disk (none at all if saving fails)."""

    def _save_checkpoint_with_step(self, runner, step, meta):
        backend, deferred = self.file_backend, []
        names = [n for n in ('remove', 'rmtree') if hasattr(backend, n)]
        for name in names:  # instance attributes shadow the backend's methods meanwhile
            setattr(backend, name,
                    lambda path, op=getattr(backend, name): deferred.append((op, path)))
        try:
            save_with_step(self, runner, step, meta)
        finally:
            for name in names:
                delattr(backend, name)
        for op, path in deferred:
            op(path)

    _save_checkpoint_with_step._removing_after_save = True
    return _save_checkpoint_with_step


def _install():
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    checkpoint_hook.open = _open
    if not getattr(CheckpointHook._save_checkpoint_with_step, '_removing_after_save', False):
        CheckpointHook._save_checkpoint_with_step = _removing_after_save(
            CheckpointHook._save_checkpoint_with_step)


_install()
