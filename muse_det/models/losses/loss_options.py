"""Options of the registered pair losses: switching ``type`` over a config is
the whole change.

A MUSE config's ``loss`` carries MUSE's options (``variant``,
``entropy_weight``...); set ``type='l2'`` on it and the options that only other
pair losses take are dropped (logged), while an option no pair loss takes is an
error listing the valid ones.
"""
import inspect

from mmengine.logging import print_log

from muse_det.information import PAIR_LOSSES
from muse_det.registry import MODELS

# Names a config may give a pair loss by: the short method name
# and the class name.
PAIR_LOSS_TYPES = {
    *PAIR_LOSSES, *(cls.__name__ for cls in PAIR_LOSSES.values())
}
# Filled in by the distiller from the probed features, never by a config.
_INTERNAL = {'student_channels', 'target_channels', 'generator'}


def init_keywords(cls) -> set:
    """Keyword arguments ``cls`` accepts, following ``**kwargs`` up the
    class hierarchy."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names - {'self'}


def adapt_loss_cfg(cfg: dict) -> dict:
    """``cfg`` without the options of *other* pair losses; unchanged if
    ``cfg['type']`` is not a pair loss (a user's own loss type)."""
    if cfg.get('type') not in PAIR_LOSS_TYPES:
        return cfg
    own = init_keywords(MODELS.get(cfg['type']))
    known = set().union(*(init_keywords(c) for c in PAIR_LOSSES.values()))
    given = set(cfg) - {'type'}
    unknown = sorted(given - known)
    if unknown:
        raise ValueError(
            f'unknown option(s) {unknown} for loss {cfg["type"]!r}; valid: '
            f'{sorted(own - _INTERNAL)}')
    foreign = sorted(given - own)
    if foreign:
        print_log(
            f'loss {cfg["type"]!r} ignores options of other losses: {foreign}',
            logger='current')
    return {k: v for k, v in cfg.items() if k not in foreign}
