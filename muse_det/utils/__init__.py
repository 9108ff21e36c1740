"""Utilities of muse-det's tools: config checks, launching, the package's
own configs."""


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register every muse-det type and optionally make ``muse_det`` the
    default scope.

    Importing the implementation packages registers their types (importing
    ``muse_det`` does the same); the default scope is the OpenMMLab convention
    MMEngine falls back to when a config's scope is ``muse_det`` (e.g. one
    inherited through ``_base_ = 'muse_det::...'``).

    Args:
        init_default_scope (bool): create the ``muse_det`` default scope when
            none exists yet. Defaults to True.
    """
    from mmengine.registry import DefaultScope

    # at call time: importing muse_det.utils (tools do first) registers nothing
    import muse_det.checkpoint  # noqa: F401
    import muse_det.datasets  # noqa: F401
    import muse_det.engine  # noqa: F401
    import muse_det.evaluation  # noqa: F401
    import muse_det.models  # noqa: F401
    if init_default_scope and DefaultScope.get_current_instance() is None:
        DefaultScope.get_instance('muse_det', scope_name='muse_det')


__all__ = ['register_all_modules']
