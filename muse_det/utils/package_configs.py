"""``muse_det::<path>`` config paths, resolved like ``mmdet::`` ones, inside a
``with`` block."""
import contextlib

from mmengine.config import utils as config_utils

from muse_det.registry import SCOPE


@contextlib.contextmanager
def package_config_paths():
    """Inside the block, ``_base_ =
    'muse_det::muse/muse_retinanet_r50_fpn_1x_coco.py'`` (in
    ``Config.fromfile``) and ``mmengine.hub.get_config('muse_det::...')``
    resolve to the configs installed with the package
    (``muse_det/.mim/configs``, see setup.py). ``tools/train.py`` and
    ``tools/test.py`` load configs inside it::

        with package_config_paths():
            cfg = Config.fromfile('my_config.py')

    MMEngine resolves ``<package>::`` through its table ``MODULE2PACKAGE``; the
    entry for muse_det exists only inside the block. It names the module
    ``muse_det.registry`` rather than the distribution, because MMEngine
    locates a distribution's package as ``<distribution location>/<name>``,
    which is wrong for editable installs, while a module without a distribution
    is located by its import spec, whose folder is the real package.

    Yields:
        None: ``muse_det::`` paths resolve inside the block.
    """
    table = config_utils.MODULE2PACKAGE
    # already resolvable (an enclosing block, or set up by the caller)
    if SCOPE in table:
        yield
        return
    table[SCOPE] = f'{SCOPE}.registry'
    try:
        yield
    finally:
        table.pop(SCOPE, None)
