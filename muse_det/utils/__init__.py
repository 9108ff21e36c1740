"""Utilities of muse-det's tools (config loading, checks, checkpoint
I/O, export)."""


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register every muse-det type (importing the package does it) and, with
    ``init_default_scope``, make ``muse_det`` the default scope; the OpenMMLab
    convention MMEngine falls back to when a config's scope is ``muse_det``
    (e.g. one inherited through ``_base_ = 'muse_det::...'``)."""
    from mmengine.registry import DefaultScope

    # at call time: the package imports this module
    import muse_det  # noqa: F401
    if init_default_scope and DefaultScope.get_current_instance() is None:
        DefaultScope.get_instance('muse_det', scope_name='muse_det')


__all__ = ['register_all_modules']
