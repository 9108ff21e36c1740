"""A local file backend whose writes are atomic, registered as
``backend='muse_atomic_local'``."""
from mmengine.fileio.backends import LocalBackend, register_backend

from .atomic_write import atomic_open


@register_backend('muse_atomic_local')
class AtomicLocalBackend(LocalBackend):
    """MMEngine's ``LocalBackend`` whose ``put``/``put_text``
    (``save_checkpoint`` writes through ``put``) go to a temp file that is
    fsynced and renamed over the target: a kill at any moment leaves the old
    file or the complete new one. Selected per use with
    ``backend_args=dict(backend='muse_atomic_local')`` (as
    :class:`MUSESafeCheckpointHook` does); the ``local`` backend stays
    MMEngine's."""

    def put(self, obj: bytes, filepath) -> None:
        """Write bytes to ``filepath`` atomically (temp file, fsync,
        rename).

        Args:
            obj (bytes): the content, e.g. a serialised checkpoint.
            filepath (str | Path): the target file; missing folders are
                created.
        """
        with atomic_open(filepath, 'wb') as f:
            f.write(obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically.

        Args:
            obj (str): the text.
            filepath (str | Path): the target file; missing folders are
                created.
            encoding (str): the text encoding. Defaults to ``'utf-8'``.
        """
        with atomic_open(filepath, 'w', encoding=encoding) as f:
            f.write(obj)
