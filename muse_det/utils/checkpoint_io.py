"""Checkpoint reading and writing that neither runs pickled code nor leaves torn files."""
import os
import os.path as osp
import tempfile

import torch


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs globals outside the allow-list (possibly a malicious payload)."""


def safe_load(path: str, map_location='cpu'):
    """``torch.load(path, weights_only=True)`` with a clear error instead of a pickle trace."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises UnpicklingError with a long hint
        if 'weights_only' in str(e) or 'Unsupported global' in str(e) or \
                type(e).__name__ == 'UnpicklingError':
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise UnsafeCheckpointError(
                f'refusing to load {path}: it needs objects outside the safe allow-list '
                f'({first}). It may carry code that would run on load; load only '
                f'checkpoints you trust, re-saved with plain tensors.') from None
        raise


def atomic_save(obj, path: str) -> None:
    """``torch.save`` to a temp file in the same folder, fsync, then rename over ``path``:
    a crash at any moment leaves either the old file or the complete new one."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix='.pth', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
