"""The package version and the OpenMMLab versions it supports (checked on
import)."""
__version__ = '0.1.0'

# The OpenMMLab versions muse-det supports, [minimum, maximum): the ranges of
# requirements/mminstall.txt and cls.txt, checked when muse_det is imported.
# The minimums are the oldest measured (tools/check_compat.sh).
SUPPORTED_VERSIONS = {
    'mmengine': ('0.10.4', '1.0.0'),
    'mmcv': ('2.1.0', '2.2.0'),
    'mmdet': ('3.3.0', '3.4.0'),
    'mmpretrain': ('1.2.0', '1.3.0'),
}


def installed_versions() -> dict:
    """The installed versions of the packages in :data:`SUPPORTED_VERSIONS`
    (mmpretrain only where it is installed: detection does not need it).

    Returns:
        dict[str, str]: package name -> version string.
    """
    import importlib
    from importlib.metadata import PackageNotFoundError, version
    found = {}
    for name in SUPPORTED_VERSIONS:
        if name == 'mmpretrain':
            try:
                found[name] = version('mmpretrain')
            except PackageNotFoundError:
                pass
        else:
            found[name] = importlib.import_module(name).__version__
    return found


def check_versions(installed: dict = None) -> None:
    """Refuse an OpenMMLab package outside its supported range with one line
    naming the range, as mmdet does for mmcv.

    Args:
        installed (dict[str, str], optional): package name -> version string;
            ``None``: :func:`installed_versions`. Defaults to None.

    Raises:
        ImportError: a package's version is outside :data:`SUPPORTED_VERSIONS`.
    """
    from mmengine.utils import digit_version
    installed = installed_versions() if installed is None else installed
    for name, found in installed.items():
        low, high = SUPPORTED_VERSIONS[name]
        if not digit_version(low) <= digit_version(found) < digit_version(
                high):
            wanted = f'{name}>={low},<{high}'
            raise ImportError(
                f'muse-det {__version__} supports {wanted}, but {name}=='
                f'{found} is installed; install a supported one: '
                f'mim install "{wanted}" (or pip install "{wanted}")')
