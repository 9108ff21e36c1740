"""Build a component from a name, a ``dict(type=...)`` or a module, looked up
in a plain ``{name: class}`` table (the pure-PyTorch core does not depend on
MMEngine's registries)."""
from typing import Mapping

from torch import nn

from .validation import unknown_name_error


def build_from_table(kind: str, cfg, table: Mapping[str, type],
                     **extra) -> nn.Module:
    """Build a component from a name table.

    Args:
        kind (str): what is built, for error messages.
        cfg (str | dict | nn.Module): a name, ``dict(type=name, **kwargs)``
            or a ready module (returned as is).
        table (Mapping[str, type]): name -> class.
        **extra: keyword arguments known only to the caller (e.g.
            dimensions); keys of a dict ``cfg`` win over them.

    Returns:
        nn.Module: the built component.
    """
    if isinstance(cfg, nn.Module):
        return cfg
    if isinstance(cfg, str):
        name, kwargs = cfg, {}
    elif isinstance(cfg, Mapping) and 'type' in cfg:
        kwargs = dict(cfg)
        name = kwargs.pop('type')
    else:
        raise ValueError(
            f'{kind} must be a name, a dict with a "type" key or an '
            f'nn.Module, got {cfg!r}; valid names: {", ".join(table)}')
    if name not in table:
        raise unknown_name_error(kind, name, table)
    return table[name](**{**extra, **kwargs})
