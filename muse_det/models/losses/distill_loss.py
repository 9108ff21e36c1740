"""Build a distiller's ``loss=`` dict: muse-det's pair losses from their own
table, by short method name (``'l2'``) or class name (``'L2DistillLoss'``),
any other type from the config scope's ``MODELS``.

The pair losses are not registered in MMEngine's shared registries, so their
short names cannot clash with another package's types, and an option a loss
does not take is an error that lists the options it does take.
"""
import difflib
import inspect
from typing import List

from torch import nn

from muse_det.errors import MuseDetError
from muse_det.information import PAIR_LOSSES
from muse_det.information.name_table import build_from_table
from muse_det.registry import MODELS

# the names a distiller's ``loss=dict(type=...)`` may give a pair loss
PAIR_LOSS_TYPES = {
    **PAIR_LOSSES,
    **{cls.__name__: cls
       for cls in PAIR_LOSSES.values()}
}
# filled in by the distiller from the probed features, never by a config
FILLED_BY_DISTILLER = ('student_channels', 'target_channels', 'generator',
                       'strides', 'offsets')


class UnknownLossOptionError(MuseDetError, ValueError):
    """A ``loss=`` dict names an option its loss does not take."""


def _init_keywords(cls: type) -> set:
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


def loss_options(loss_type: str) -> List[str]:
    """The options a config may give a pair loss.

    Args:
        loss_type (str): a short method name or class name of
            :data:`PAIR_LOSS_TYPES`.

    Returns:
        list[str]: the option names, sorted (the ones the distiller fills in
        excluded).
    """
    return sorted(
        _init_keywords(PAIR_LOSS_TYPES[loss_type]) - set(FILLED_BY_DISTILLER))


def check_loss_cfg(cfg: dict) -> dict:
    """Check a pair loss's config before anything is built.

    Args:
        cfg (dict): ``dict(type=..., **options)``; a type that is not a pair
            loss (a user's own registered loss) is not checked here.

    Returns:
        dict: ``cfg``.

    Raises:
        UnknownLossOptionError: an option the loss does not take, with the
            closest valid name and every valid one.
    """
    loss_type = cfg.get('type')
    if loss_type not in PAIR_LOSS_TYPES:
        return cfg
    valid = loss_options(loss_type)
    unknown = sorted(set(cfg) - {'type'} - set(valid))
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, valid, n=1)
            if close:
                hints.append(f'{name!r}: did you mean {close[0]!r}?')
        raise UnknownLossOptionError(
            f'loss {loss_type!r} takes no option(s) {unknown}'
            f'{" (" + "; ".join(hints) + ")" if hints else ""}; its options: '
            f'{valid}. A loss dict merged over another loss\'s (a config that '
            'inherits a MUSE config) starts afresh with '
            f'loss=dict(_delete_=True, type={loss_type!r}, ...)')
    return cfg


def build_distill_loss(cfg: dict, **filled) -> nn.Module:
    """Build one pair's loss.

    Args:
        cfg (dict): the distiller's ``loss`` config, ``dict(type=...,
            **options)``.
        **filled: what the distiller measured (``student_channels``,
            ``target_channels`` and, for pair losses, the sampling
            generator, ``strides`` and ``offsets``).

    Returns:
        nn.Module: a pair loss from :data:`PAIR_LOSS_TYPES`, or the type
        ``MODELS`` builds in the config's scope.
    """
    cfg = dict(cfg)
    if cfg.get('type') not in PAIR_LOSS_TYPES:
        return MODELS.build(dict(cfg, **filled))
    return build_from_table('pair loss', check_loss_cfg(cfg), PAIR_LOSS_TYPES,
                            **filled)
