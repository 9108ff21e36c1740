"""Classification data through mmpretrain: the toy CIFAR-100-format set
read by mmpretrain's CIFAR100 code (MUSEToyCIFAR100), the generator, the CIFAR
file checks that stand in front of mmpretrain's downloads, and the configs'
train pipeline."""
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from cls_helpers import ROOT


def _build(cfg):
    from mmengine.registry import DATASETS, init_default_scope

    import muse_det  # noqa: F401
    init_default_scope('mmpretrain')
    return DATASETS.build(cfg)


def test_toy_set_is_the_cifar100_python_format(toy_cifar, toy_maker):
    folder = osp.join(toy_cifar, 'cifar-100-python')
    assert sorted(os.listdir(folder)) == ['meta', 'test', 'train', 'val']
    with open(osp.join(folder, 'train'), 'rb') as f:
        train = pickle.load(f, encoding='latin1')
    assert set(train) == {
        'filenames', 'batch_label', 'fine_labels', 'coarse_labels', 'data'
    }
    assert train['data'].shape == (24,
                                   3072) and train['data'].dtype == np.uint8
    with open(osp.join(folder, 'meta'), 'rb') as f:
        meta = pickle.load(f, encoding='latin1')
    assert meta['fine_label_names'] == list(toy_maker.FINE_CLASSES)
    assert len(meta['coarse_label_names']) == max(train['coarse_labels']) + 1


@pytest.mark.parametrize('split,num', [('train', 24), ('val', 16),
                                       ('test', 16)])
def test_toy_cifar100_reads_images_labels_and_classes(toy_cifar, toy_maker,
                                                      split, num):
    from mmpretrain.datasets import CIFAR100
    ds = _build(dict(type='MUSEToyCIFAR100', data_root=toy_cifar, split=split))
    assert isinstance(ds, CIFAR100) and len(ds) == num
    # from the meta file
    assert tuple(ds.metainfo['classes']) == toy_maker.FINE_CLASSES
    for i in (0, num - 1):
        item = ds.get_data_info(i)
        img, label = toy_maker.render_image(0, split, i)
        assert item['img'].shape == (32, 32,
                                     3) and item['img'].dtype == np.uint8
        # planes -> HWC RGB, pixel exact
        np.testing.assert_array_equal(item['img'], img)
        assert item['gt_label'] == label
    assert ds.get_gt_labels().tolist() == [
        toy_maker.render_image(0, split, i)[1] for i in range(num)
    ]


def test_mmpretrain_cifar100_refuses_other_files_so_the_toy_set_has_its_reader(
        toy_cifar):
    # The official reader checks the release's MD5 sums; with download=False it
    # stops there (with its default download=True it would fetch the release).
    with pytest.raises(RuntimeError, match='Cannot find CIFAR100'):
        _build(
            dict(
                type='CIFAR100',
                data_root=toy_cifar,
                split='train',
                download=False))


def test_missing_files_say_where_to_put_what_and_nothing_downloads(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        _build(
            dict(
                type='MUSEToyCIFAR100',
                data_root=str(tmp_path / 'cifar100'),
                split='train'))
    msg = str(e.value)
    for part in ('train', 'meta',
                 osp.join(str(tmp_path), 'cifar100',
                          'cifar-100-python'), 'make_toy_cifar.py'):
        assert part in msg, part
    with pytest.raises(ValueError, match='never downloads'):
        _build(
            dict(
                type='MUSEToyCIFAR100', data_root=str(tmp_path),
                download=True))
    with pytest.raises(ValueError, match="'train', 'val', 'test', got 'va'"):
        _build(
            dict(type='MUSEToyCIFAR100', data_root=str(tmp_path), split='va'))


def test_cifar_file_checks_of_the_tools(tmp_path):
    """tools/train.py and tools/test.py check the files of mmpretrain's CIFAR
    datasets before mmpretrain would download them: one error naming the
    missing files and the fix."""
    from muse_det.utils.config_checks import (ConfigCheckError,
                                              check_cifar_files)
    with pytest.raises(ConfigCheckError) as e:
        check_cifar_files('train_dataloader',
                          dict(type='CIFAR100', data_root=str(tmp_path)))
    for part in ('train, test, meta',
                 osp.join(str(tmp_path), 'cifar-100-python'), 'cifar.html',
                 'train_dataloader.dataset.data_root'):
        assert part in str(e.value), part
    with pytest.raises(
            ConfigCheckError, match='data_batch_1.*test_batch.*batches.meta'):
        check_cifar_files(
            'val_dataloader',
            dict(type='mmpretrain.CIFAR10', data_root=str(tmp_path)))
    with pytest.raises(ConfigCheckError, match='make_toy_cifar.py'):
        check_cifar_files(
            'val_dataloader',
            dict(type='MUSEToyCIFAR100', data_root=str(tmp_path)))
    folder = tmp_path / 'cifar-10-batches-py'
    folder.mkdir()
    for name in [f'data_batch_{i}'
                 for i in range(1, 6)] + ['test_batch', 'batches.meta']:
        (folder / name).write_bytes(b'')
    assert check_cifar_files('train_dataloader',
                             dict(type='CIFAR10', data_root=str(tmp_path)))
    assert not check_cifar_files('train_dataloader', dict(type='CocoDataset'))


def test_toy_maker_is_deterministic_and_has_a_cli(tmp_path, toy_maker, capsys):
    toy_maker.main(
        ['--out',
         str(tmp_path / 'a'), '--num-train', '6', '--num-test', '3'])
    out = capsys.readouterr().out
    assert ('train: 6 images' in out and 'test : 3 images' in out
            and 'Done in' in out)
    toy_maker.make_toy_cifar(str(tmp_path / 'b'), 6, 3, seed=0, log_every=0)
    for name in ('train', 'test', 'meta'):
        a = (tmp_path / 'a' / 'cifar-100-python' / name).read_bytes()
        assert a == (tmp_path / 'b' / 'cifar-100-python' /
                     name).read_bytes(), name


def _train_pipeline():
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/classification/toy/resnet18_toy_cifar.py'))
    return cfg.train_dataloader.dataset.pipeline


def test_train_pipeline_packs_cropped_flipped_images(toy_cifar):
    from mmpretrain.structures import DataSample

    # mmpretrain's CIFAR-100 recipe: crop 32 + pad 4, flip, pack
    pipeline = _train_pipeline()
    assert [t['type']
            for t in pipeline] == ['RandomCrop', 'RandomFlip', 'PackInputs']
    pipeline[1]['prob'] = 1.0
    ds = _build(
        dict(
            type='MUSEToyCIFAR100',
            data_root=toy_cifar,
            split='train',
            pipeline=pipeline))
    out = ds[5]
    assert out['inputs'].shape == (3, 32,
                                   32) and out['inputs'].dtype == torch.uint8
    sample = out['data_samples']
    assert isinstance(sample, DataSample)
    assert sample.gt_label.tolist() == [ds.get_data_info(5)['gt_label']]
    assert sample.flip and sample.sample_idx == 5 and sample.img_shape[:2] == (
        32, 32)


def test_random_crop_is_a_window_of_the_padded_image():
    from mmengine.registry import TRANSFORMS, init_default_scope
    init_default_scope('mmpretrain')
    crop_cfg = _train_pipeline()[0]
    assert (crop_cfg['crop_size'], crop_cfg['padding']) == (32, 4)
    img = np.arange(1, 8 * 8 * 3 + 1, dtype=np.uint8).reshape(8, 8, 3)
    # zero padding, as CIFAR's
    crop = TRANSFORMS.build(dict(crop_cfg, crop_size=8, padding=2))
    padded = np.pad(img, ((2, 2), (2, 2), (0, 0)))
    np.random.seed(0)
    outs = [crop(dict(img=img.copy()))['img'] for _ in range(5)]
    for out in outs:
        assert out.shape == (8, 8, 3)
        assert any((padded[y:y + 8, x:x + 8] == out).all() for y in range(5)
                   for x in range(5))
    assert any(not (out == img).all() for out in outs)  # the window moves


def test_hard_variant_is_its_own_deterministic_set_read_like_the_easy_one(
        tmp_path, toy_maker):
    """``--variant hard`` draws from streams of its own (the easy set is
    unchanged by it), deterministically, in the same format."""
    root = tmp_path / 'hard'
    toy_maker.main([
        '--out',
        str(root), '--variant', 'hard', '--num-train', '8', '--num-test', '4',
        '--log-every', '0'
    ])
    ds = _build(
        dict(type='MUSEToyCIFAR100', data_root=str(root), split='test'))
    assert len(ds) == 4
    for i in range(4):
        img, label = toy_maker.render_image(0, 'test', i, 'hard')
        np.testing.assert_array_equal(ds.get_data_info(i)['img'], img)
        assert ds.get_data_info(i)['gt_label'] == label
        again, _ = toy_maker.render_image(0, 'test', i, 'hard')
        np.testing.assert_array_equal(img, again)
        easy, _ = toy_maker.render_image(0, 'test', i)
        assert not np.array_equal(img, easy)
    # noise sigma 12 against the easy set's 8: neighbouring pixels differ
    # more
    hard = np.stack(
        [toy_maker.render_image(0, 'train', i, 'hard')[0] for i in range(32)])
    easy = np.stack(
        [toy_maker.render_image(0, 'train', i)[0] for i in range(32)])
    rough = [
        np.median(np.abs(np.diff(x.astype(float), axis=2)))
        for x in (hard, easy)
    ]
    assert rough[0] > 1.25 * rough[1]
    with pytest.raises(ValueError, match="unknown variant 'harder'"):
        toy_maker.make_toy_cifar(str(tmp_path / 'x'), 2, 2, variant='harder')
