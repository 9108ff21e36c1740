"""File writes that a crash cannot tear: a temp file in the target's folder,
fsync, rename."""
import contextlib
import glob
import os
import os.path as osp
import secrets

import torch

from muse_det.errors import MuseDetError


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
    keeps the old one.

    Args:
        path (str | PathLike): the file to write.
        mode (str): ``'w'`` (text) or ``'wb'`` (binary). Defaults to
            ``'wb'``.
        **kwargs: passed to ``os.fdopen``, e.g. ``encoding``.

    Yields:
        file object: the open temp file.

    Raises:
        MuseDetError: ``mode`` is neither ``'w'`` nor ``'wb'``.
    """
    if mode not in ('w', 'wb'):
        raise MuseDetError(
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
    process was killed mid-write (``.<name>.<12 hex digits>.tmp``).

    Args:
        folder (str | PathLike): the folder to clean (not its subfolders).

    Returns:
        list[str]: the removed paths (absolute, sorted).
    """
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
    """``torch.save`` through :func:`atomic_open`.

    Args:
        obj (Any): what ``torch.save`` takes, e.g. a checkpoint dict.
        path (str | PathLike): the file to write.
    """
    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)
