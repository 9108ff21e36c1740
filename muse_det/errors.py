"""muse-det's own exception types.

A :class:`MuseDetError` is a mistake in what muse-det was given (a config
key, a file, a checkpoint) that its message can name the fix for, in one
line. muse-det's tools print such errors without a traceback; every other
exception (from PyTorch, OpenMMLab, or a user's own transforms, heads and
hooks) keeps its full traceback, since only there is the fix found.

This module imports nothing, so ``muse_det.information`` (pure PyTorch) can
raise these types too.
"""
import os.path as osp
from types import TracebackType
from typing import Optional

_PACKAGE_DIR = osp.dirname(osp.abspath(__file__)) + osp.sep


class MuseDetError(ValueError):
    """A bad input to muse-det, with a one-line message saying what is wrong
    and how to fix it.

    A ``ValueError``, so code catching bad arguments the usual way catches it
    too.

    Args:
        *args: the message, as for any exception.
    """


class MissingFileError(MuseDetError, FileNotFoundError):
    """A file muse-det was asked to read (a config, a checkpoint, a dataset
    file) does not exist."""


def _raised_in_package(tb: Optional[TracebackType]) -> bool:
    """Whether the innermost frame of ``tb`` is one of muse-det's modules."""
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = osp.abspath(tb.tb_frame.f_code.co_filename)
    return filename.startswith(_PACKAGE_DIR)


def is_muse_det_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of muse-det's own errors.

    That is a :class:`MuseDetError`, or a ``ValueError`` that muse-det's own
    code raised (its modules check their arguments with ``ValueError``s that
    name the fix). An exception re-raised with the same type while another was
    handled (MMEngine's registry does that to prepend the class name) counts
    as the one it replaced. Anything raised elsewhere, a ``ValueError`` from a
    user's own transform included, is not.

    Args:
        exc (BaseException): the exception to classify.

    Returns:
        bool: True if its message alone says what to fix.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MuseDetError):
            return True
        if isinstance(exc, ValueError) and _raised_in_package(
                exc.__traceback__):
            return True
        inner = exc.__cause__ or exc.__context__
        if inner is None or type(inner) is not type(exc):
            return False
        exc = inner
    return False
