"""Checks of a training/test config that turn deep failures into
one clear sentence.

Run by tools/train.py and tools/test.py before the runner is built: the
dataset files exist and annotations parse (so mmpretrain's CIFAR datasets
never get to download missing files), and the model's ``num_classes`` matches
the dataset's classes.
"""
import json
import os.path as osp
from typing import Iterator, List, Tuple

from ..errors import MuseDetError

# Parsing a COCO json twice costs little below this size; larger files (COCO
# train2017's) are checked by existence only.
_JSON_CHECK_MAX_BYTES = 64 * 2**20


class ConfigCheckError(MuseDetError):
    """A config that would fail deep inside the runner, or train
    silently wrong."""


def _datasets(cfg) -> Iterator[Tuple[str, dict]]:
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(split, None)
        if not loader or 'dataset' not in loader:
            continue
        ds = loader['dataset']
        # RepeatDataset, ClassBalanced...
        while isinstance(ds, dict) and 'dataset' in ds:
            ds = ds['dataset']
        if isinstance(ds, dict):
            yield split, ds


def _join(root, path):
    if not path or osp.isabs(path) or '://' in str(path):
        return path
    return osp.join(root or '', path)


# The CIFAR python releases that mmpretrain's datasets read: folder and files.
# Checked here because mmpretrain's CIFAR10/CIFAR100 download the release over
# missing files by default.
CIFAR_FILES = {
    'CIFAR10': ('cifar-10-batches-py',
                [f'data_batch_{i}'
                 for i in range(1, 6)] + ['test_batch', 'batches.meta']),
    'CIFAR100': ('cifar-100-python', ['train', 'test', 'meta']),
    'MUSEToyCIFAR100': ('cifar-100-python', ['train', 'val', 'test', 'meta']),
}
CIFAR_ARCHIVES = 'https://www.cs.toronto.edu/~kriz/cifar.html'


def check_cifar_files(split: str, ds: dict) -> bool:
    """For a CIFAR dataset: check that its files exist under ``data_root``
    (else one clear error; nothing is downloaded).

    Args:
        split (str): the dataloader key, e.g. ``'train_dataloader'``, named
            by the error.
        ds (dict): the (innermost) dataset config.

    Returns:
        bool: whether ``ds`` is a CIFAR dataset (a type of
        :data:`CIFAR_FILES`).

    Raises:
        ConfigCheckError: a file of the CIFAR release is missing.
    """
    kind = str(ds.get('type', '')).rpartition('.')[2]
    if kind not in CIFAR_FILES:
        return False
    folder = osp.join(
        ds.get('data_root', '') or '',
        ds.get('data_prefix', '') or '', CIFAR_FILES[kind][0])
    missing = [
        f for f in CIFAR_FILES[kind][1] if not osp.isfile(osp.join(folder, f))
    ]
    if missing:
        fix = (
            'make the toy set with `python tools/misc/make_toy_cifar.py`'
            if kind == 'MUSEToyCIFAR100' else
            f'unpack the python version of the release from {CIFAR_ARCHIVES} '
            'there (docs/get_started.md)')
        raise ConfigCheckError(
            f'{split}: {kind} files missing in {folder}/: '
            f'{", ".join(missing)}; {fix}, or set {split}.dataset.data_root.')
    return True


def check_data_paths(cfg,
                     splits=('train_dataloader', 'val_dataloader',
                             'test_dataloader')):
    """Check that annotation files exist (and parse, when small) and image
    folders exist; CIFAR datasets have their files.

    Args:
        cfg (Config): the run's config; the innermost dataset of each
            dataloader is checked (through ``RepeatDataset`` & co.).
        splits (tuple[str]): the dataloader keys to check. Defaults to
            ``('train_dataloader', 'val_dataloader', 'test_dataloader')``.

    Raises:
        ConfigCheckError: a ``data_root``, annotation file or image folder
            is missing, or a small json annotation file does not parse.
    """
    for split, ds in _datasets(cfg):
        if split not in splits or check_cifar_files(split, ds):
            continue
        root = ds.get('data_root', '') or ''
        if root and '://' not in root and not osp.isdir(root):
            raise ConfigCheckError(
                f'{split}.dataset.data_root does not exist: {root!r}. Put the '
                'dataset there (docs/get_started.md), make the toy set with '
                '`python tools/misc/make_toy_coco.py`, or set '
                f'{split}.dataset.data_root.')
        ann = _join(root, ds.get('ann_file', ''))
        if ann and '://' not in ann:
            if not osp.isfile(ann):
                raise ConfigCheckError(
                    f'{split}: annotation file not found: {ann!r} '
                    f'(data_root={root!r}, ann_file={ds.get("ann_file")!r}); '
                    f'fix the path or set {split}.dataset.ann_file.')
            if ann.endswith(
                    '.json') and osp.getsize(ann) <= _JSON_CHECK_MAX_BYTES:
                try:
                    with open(ann) as f:
                        json.load(f)
                except json.JSONDecodeError as e:
                    raise ConfigCheckError(
                        f'{split}: annotation file {ann!r} is not valid JSON '
                        f'({e.msg} at line {e.lineno}, column {e.colno}); it '
                        'is truncated or corrupted: regenerate or '
                        're-download it.') from None
        prefix = ds.get('data_prefix', {}) or {}
        for key in ('img', 'img_path'):
            folder = _join(root, prefix.get(key, '')) if isinstance(
                prefix, dict) else None
            if folder and '://' not in folder and not osp.isdir(folder):
                raise ConfigCheckError(
                    f'{split}: image folder not found: {folder!r} '
                    f'(data_root={root!r}, '
                    f'data_prefix.{key}={prefix.get(key)!r}).')


def _num_classes(node, path='model') -> List[Tuple[str, int]]:
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == 'num_classes' and isinstance(v, int):
                found.append((f'{path}.{k}', v))
            else:
                found.extend(_num_classes(v, f'{path}.{k}'))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            found.extend(_num_classes(v, f'{path}[{i}]'))
    return found


def check_num_classes(cfg) -> None:
    """Check that every ``num_classes`` in the model equals the number of
    classes of the first dataset config that names its classes
    (``metainfo.classes``); nothing is checked when none does.

    Args:
        cfg (Config): the run's config.

    Raises:
        ConfigCheckError: a ``num_classes`` differs from the number of
            classes.
    """
    for split, ds in _datasets(cfg):
        classes = (ds.get('metainfo') or {}).get('classes')
        if not classes:
            continue
        wrong = [(p, n) for p, n in _num_classes(cfg.get('model', {}))
                 if n != len(classes)]
        if wrong:
            where = ', '.join(f'{p}={n}' for p, n in wrong[:4])
            raise ConfigCheckError(
                'the model predicts a different number of classes than '
                f'{split} has: {where}, but metainfo.classes lists '
                f'{len(classes)} '
                f'({", ".join(map(str, classes[:5]))}'
                f'{", ..." if len(classes) > 5 else ""}); set '
                f'num_classes={len(classes)}.')
        return


def check_config(cfg, training: bool = True) -> None:
    """Run the checks of a config before the runner is built
    (:func:`check_data_paths`, :func:`check_num_classes`).

    Args:
        cfg (Config): the run's config.
        training (bool): check the train and val dataloaders (``True``,
            ``tools/train.py``) or the test dataloader (``False``,
            ``tools/test.py``). Defaults to True.

    Raises:
        ConfigCheckError: the first problem found.
    """
    splits = ('train_dataloader',
              'val_dataloader') if training else ('test_dataloader', )
    check_data_paths(cfg, splits)
    check_num_classes(cfg)
