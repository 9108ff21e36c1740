"""CIFAR-10 / CIFAR-100 from the official *python* pickle files; never downloads."""
import os.path as osp
import pickle
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset

from muse_det.registry import DATASETS

TOY_COMMAND = 'python tools/misc/make_toy_cifar.py --out {root}'


@DATASETS.register_module()
class CIFAR10(BaseDataset):
    """CIFAR-10 as mmpretrain's ``CIFAR10``: items ``dict(img=HWC uint8 RGB, gt_label=int)``.

    Expects ``<data_root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``
    (``cifar-10-python.tar.gz`` from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked).
    Class names come from the meta file unless ``metainfo`` gives them.

    Args:
        data_root: the folder holding ``cifar-10-batches-py``.
        split: ``'train'`` or ``'test'``.
    """
    base_folder = 'cifar-10-batches-py'
    archive = 'cifar-10-python.tar.gz'
    split_files = dict(train=[f'data_batch_{i}' for i in range(1, 6)], test=['test_batch'])
    meta_file, meta_key, label_key = 'batches.meta', 'label_names', 'labels'

    def __init__(self, data_root: str = '', split: str = 'train',
                 metainfo: Optional[dict] = None, data_prefix: str = '',
                 test_mode: bool = False, **kwargs):
        if split not in self.split_files:
            raise ValueError(f'{type(self).__name__}: split must be one of '
                             f'{sorted(self.split_files)}, got {split!r}')
        if not data_root and not data_prefix:
            raise ValueError(f'{type(self).__name__}: set data_root to the folder holding '
                             f'{self.base_folder}/')
        self.split = split
        super().__init__(data_root=data_root, data_prefix=dict(root=data_prefix),
                         metainfo=metainfo, test_mode=test_mode, **kwargs)

    @property
    def folder(self) -> str:
        return osp.join(self.data_prefix['root'], self.base_folder)

    def _read(self, name: str) -> dict:
        with open(osp.join(self.folder, name), 'rb') as f:
            return pickle.load(f, encoding='latin1')  # the files are Python 2 pickles

    def load_data_list(self) -> List[dict]:
        files = self.split_files[self.split] + [self.meta_file]
        missing = [f for f in files if not osp.isfile(osp.join(self.folder, f))]
        if missing:
            root = self.data_prefix['root'].rstrip('/') or '.'
            raise FileNotFoundError(
                f'{type(self).__name__}: missing {", ".join(missing)} in {self.folder}/. '
                f'Download {self.archive} (python version) from '
                f'https://www.cs.toronto.edu/~kriz/cifar.html and unpack it into {root}/ '
                f'(muse-det never downloads). For a tiny CIFAR-100-format stand-in, run: '
                f'{TOY_COMMAND.format(root=root)} and use type="CIFAR100".')
        names = self._read(self.meta_file)[self.meta_key]
        self._metainfo.setdefault('classes', tuple(names))
        data, labels = [], []
        for name in self.split_files[self.split]:
            batch = self._read(name)
            data.append(np.asarray(batch['data'], dtype=np.uint8))
            labels.extend(int(y) for y in batch[self.label_key])
        imgs = np.concatenate(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        num_classes = len(self._metainfo['classes'])
        if len(imgs) != len(labels) or (labels and not 0 <= min(labels) <= max(labels)
                                        < num_classes):
            raise ValueError(f'{type(self).__name__}: {self.folder} is inconsistent: '
                             f'{len(imgs)} images, {len(labels)} labels, {num_classes} classes')
        return [dict(img=np.ascontiguousarray(img), gt_label=y)
                for img, y in zip(imgs, labels)]

    def extra_repr(self) -> List[str]:
        return [f'Prefix of data: \t{self.folder}', f'Split: \t{self.split}']

    def get_gt_labels(self) -> np.ndarray:
        """Labels of all items, in order."""
        return np.array([self.get_data_info(i)['gt_label'] for i in range(len(self))])


@DATASETS.register_module()
class CIFAR100(CIFAR10):
    """CIFAR-100 (fine labels), from ``<data_root>/cifar-100-python/{train, test, meta}``;
    ``tools/misc/make_toy_cifar.py`` writes a small set in this format."""
    base_folder = 'cifar-100-python'
    archive = 'cifar-100-python.tar.gz'
    split_files = dict(train=['train'], test=['test'])
    meta_file, meta_key, label_key = 'meta', 'fine_label_names', 'fine_labels'
