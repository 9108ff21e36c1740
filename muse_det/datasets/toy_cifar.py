"""CIFAR-100-format pickles that are not the official release, read by
mmpretrain's CIFAR100."""
import os.path as osp

from mmpretrain.datasets import CIFAR100

from muse_det.errors import MissingFileError, MuseDetError
from muse_det.registry import DATASETS

# how to make the toy set, named by the errors
TOY_COMMAND = 'python tools/misc/make_toy_cifar.py --out {root}'


@DATASETS.register_module()
class MUSEToyCIFAR100(CIFAR100):
    """mmpretrain's ``CIFAR100`` on other files of the same format, e.g. the
    toy set of ``tools/misc/make_toy_cifar.py``:
    ``<data_root>/cifar-100-python/{train, val, test, meta}``;
    ``split='val'`` reads the validation file (settings are chosen on it,
    results reported on ``test``).

    mmpretrain verifies the official files' MD5 sums, so it refuses any other
    set (and with its default ``download=True`` it downloads the release
    instead). Here the files are read as they are: no checksum, class names
    from ``meta`` (the toy set has 10), and never a download: a missing file
    raises :class:`~muse_det.errors.MissingFileError` (a
    ``FileNotFoundError``) naming it and the command that makes the toy set.
    Everything else (items, pipeline, ``gt_label``) is mmpretrain's.

    Args:
        *args: ``CIFAR100``'s positional arguments (``data_root``).
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        download (bool): must be False; True raises
            :class:`~muse_det.errors.MuseDetError`. Defaults to False.
        **kwargs: ``CIFAR100``'s other arguments (``data_root``,
            ``data_prefix``, ``metainfo``, ``test_mode``, ``pipeline``...).

    Examples:
        >>> # configs/classification/toy/resnet18_toy_cifar.py
        >>> data_root = 'data/toy_cifar100'
        >>> train_dataloader = dict(
        >>>     batch_size=32,
        >>>     dataset=dict(type='MUSEToyCIFAR100', data_root=data_root))
        >>> val_dataloader = dict(
        >>>     batch_size=32,
        >>>     dataset=dict(type='MUSEToyCIFAR100', data_root=data_root,
        >>>                  split='val'))
    """
    train_list = [['train', None]]
    test_list = [['test', None]]
    meta = dict(CIFAR100.meta, md5=None)
    METAINFO = dict()  # the classes come from the meta file

    def __init__(self,
                 *args,
                 split: str = 'train',
                 download: bool = False,
                 **kwargs):
        if download:
            raise MuseDetError(
                'MUSEToyCIFAR100 never downloads; make the files with ' +
                TOY_COMMAND.format(root='<data_root>'))
        if split not in ('train', 'val', 'test'):
            raise ValueError('MUSEToyCIFAR100: split must be one of '
                             f"'train', 'val', 'test', got {split!r}")
        if split == 'val':
            # mmpretrain knows 'train' and 'test'; val is read as a test
            # split from its own file
            self.test_list = [['val', None]]
            split = 'test'
        super().__init__(*args, split=split, download=False, **kwargs)

    def _check_integrity(self) -> bool:
        root = self.data_prefix['root']
        folder = osp.join(root, self.base_folder)
        names = [name for name, _ in self.train_list + self.test_list
                 ] + [self.meta['filename']]
        missing = [
            name for name in names if not osp.isfile(osp.join(folder, name))
        ]
        if missing:
            raise MissingFileError(
                f'{type(self).__name__}: missing {", ".join(missing)} in '
                f'{folder}/; make the toy set with '
                f'`{TOY_COMMAND.format(root=root.rstrip("/") or ".")}` or set '
                f'data_root to the folder holding {self.base_folder}/')
        return True
