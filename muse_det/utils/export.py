"""Turn a distiller checkpoint into a plain checkpoint of the wrapped model."""
from collections import OrderedDict
from typing import Dict, Tuple

import torch

PREFIX = 'architecture.'


def strip_distiller(state_dict: Dict[str, torch.Tensor],
                    prefix: str = PREFIX) -> Tuple[OrderedDict, list]:
    """Keep ``architecture.*`` without the prefix; drop adapters, critics, peers and teachers.

    Returns the plain state dict and the dropped keys. A state dict without any ``prefix`` key
    is not a distiller's and raises ``ValueError``.
    """
    kept, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        if key.startswith(prefix):
            kept[key[len(prefix):]] = value
        else:
            dropped.append(key)
    if not kept:
        raise ValueError(
            f'no "{prefix}*" keys in this checkpoint: it is not a muse-det distiller checkpoint '
            f'(already plain?). First keys: {list(state_dict)[:5]}')
    return kept, dropped


def export_checkpoint(src: str, dst: str, prefix: str = PREFIX) -> dict:
    """Write ``dst`` = ``{'meta', 'state_dict'}`` of the plain wrapped model; loads ``src``
    with ``weights_only=True``. Returns a summary (kept/dropped key counts)."""
    from muse_det.utils.checkpoint_io import atomic_save, safe_load
    ckpt = safe_load(src)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{src} holds no state_dict')
    plain, dropped = strip_distiller(state, prefix)
    meta = dict(ckpt.get('meta', {}) or {}) if isinstance(ckpt, dict) else {}
    meta['exported_from'] = src
    meta.pop('hook_msgs', None)
    atomic_save({'meta': meta, 'state_dict': plain}, dst)
    return dict(kept=len(plain), dropped=len(dropped), dropped_keys=dropped)
