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
    """The ``state_dict`` of a loaded checkpoint (MMEngine's ``{'meta',
    'state_dict', ...}`` or a bare state dict); ``what`` names the file in the
    error."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state, dict) or not state:
        raise MuseDetError(f'{what} holds no state_dict')
    return state


def strip_distiller(state_dict: Dict[str, torch.Tensor],
                    prefix: str = PREFIX) -> Tuple[OrderedDict, list]:
    """Keep ``architecture.*`` without the prefix; drop adapters, critics,
    peers and teachers.

    Returns the plain state dict and the dropped keys. A state dict without any
    ``prefix`` key is not a distiller's and raises ``ValueError``.
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
    is."""
    if any(key.startswith(PREFIX) for key in state_dict):
        return strip_distiller(state_dict)[0]
    return state_dict


def export_checkpoint(src: str, dst: str, prefix: str = PREFIX) -> dict:
    """Write ``dst`` = ``{'meta', 'state_dict'}`` of the plain wrapped model;
    loads ``src`` with :func:`~muse_det.checkpoint.safe_load`. Returns
    a summary (kept/dropped key counts)."""
    ckpt = safe_load(src)
    plain, dropped = strip_distiller(state_dict_of(ckpt, src), prefix)
    meta = dict(ckpt.get('meta') or {})
    meta['exported_from'] = src
    meta.pop('hook_msgs', None)
    atomic_save({'meta': meta, 'state_dict': plain}, dst)
    return dict(kept=len(plain), dropped=len(dropped), dropped_keys=dropped)
