"""Distiller checkpoints -> the wrapped model's own state dict and a plain
checkpoint of it."""
from collections import OrderedDict
from typing import Dict, Tuple

import torch

from muse_det.checkpoint import atomic_save, safe_load
from muse_det.errors import MuseDetError
from .feature_pairs import ARCHITECTURE

# A distiller's state dict holds the wrapped model's tensors under this prefix.
PREFIX = f'{ARCHITECTURE}.'


def state_dict_of(checkpoint, what: str) -> dict:
    """The ``state_dict`` of a loaded checkpoint.

    Args:
        checkpoint (dict): a loaded checkpoint, MMEngine's ``{'meta',
            'state_dict', ...}`` or a bare state dict.
        what (str): names the file in the error, e.g. its path.

    Returns:
        dict[str, Tensor]: ``checkpoint['state_dict']``, or ``checkpoint``
        itself when it has no ``state_dict`` key.

    Raises:
        MuseDetError: ``checkpoint`` is not a dict, or its state dict is
            empty or not a dict.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state, dict) or not state:
        raise MuseDetError(f'{what} holds no state_dict')
    return state


def strip_distiller(state_dict: Dict[str, torch.Tensor],
                    prefix: str = PREFIX) -> Tuple[OrderedDict, list]:
    """Keep ``architecture.*`` without the prefix; drop adapters, critics,
    peers, teachers and the sampling state.

    Args:
        state_dict (dict[str, Tensor]): a distiller's state dict.
        prefix (str): the wrapped model's key prefix. Defaults to
            ``'architecture.'``.

    Returns:
        tuple[OrderedDict, list[str]]: the plain state dict (keys without
        ``prefix``, in their order) and the dropped keys.

    Raises:
        MuseDetError: no key starts with ``prefix``: not a distiller's state
            dict (already plain?).
    """
    kept, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        if key.startswith(prefix):
            kept[key[len(prefix):]] = value
        else:
            dropped.append(key)
    if not kept:
        raise MuseDetError(
            f'no "{prefix}*" keys in this checkpoint: it is not a muse-det '
            'distiller checkpoint (already plain?). First keys: '
            f'{list(state_dict)[:5]}')
    return kept, dropped


def model_state_dict(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The wrapped model's state dict of a distiller's; a plain model's as it
    is.

    Args:
        state_dict (dict[str, Tensor]): a distiller's or a plain model's
            state dict.

    Returns:
        dict[str, Tensor]: the ``architecture.*`` entries without the prefix
        if any key has it, else ``state_dict`` itself.
    """
    if any(key.startswith(PREFIX) for key in state_dict):
        return strip_distiller(state_dict)[0]
    return state_dict


def export_checkpoint(src: str, dst: str, prefix: str = PREFIX) -> dict:
    """Write the plain wrapped model of a distiller checkpoint (what
    ``tools/export.py`` does).

    ``src`` is read with :func:`~muse_det.checkpoint.safe_load`; ``dst`` is
    written atomically and holds ``{'meta', 'state_dict'}``: ``src``'s meta
    without ``hook_msgs`` plus ``exported_from=src``, and the state dict of
    :func:`strip_distiller`.

    Args:
        src (str): path of the distiller checkpoint.
        dst (str): path of the plain checkpoint to write.
        prefix (str): the wrapped model's key prefix. Defaults to
            ``'architecture.'``.

    Returns:
        dict: ``kept`` and ``dropped`` (int, key counts) and
        ``dropped_keys`` (list[str]).

    Raises:
        MissingFileError: ``src`` does not exist.
        UnsafeCheckpointError: ``src`` needs globals beyond the allow-list.
        MuseDetError: ``src`` holds no state dict, or not a distiller's.
    """
    ckpt = safe_load(src)
    plain, dropped = strip_distiller(state_dict_of(ckpt, src), prefix)
    meta = dict(ckpt.get('meta') or {})
    meta['exported_from'] = src
    meta.pop('hook_msgs', None)
    atomic_save({'meta': meta, 'state_dict': plain}, dst)
    return dict(kept=len(plain), dropped=len(dropped), dropped_keys=dropped)
