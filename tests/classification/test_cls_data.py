"""CIFAR datasets on real pickle files, the toy-set generator and the classification
transforms."""
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from cls_helpers import toy_cifar, toy_maker  # noqa: F401 (fixtures)


def _build(cfg):
    from mmengine.registry import init_default_scope
    import muse_det  # noqa: F401
    from muse_det.registry import DATASETS
    init_default_scope('mmdet')
    return DATASETS.build(cfg)


def test_toy_set_is_the_cifar100_python_format(toy_cifar, toy_maker):
    folder = osp.join(toy_cifar, 'cifar-100-python')
    assert sorted(os.listdir(folder)) == ['meta', 'test', 'train']
    with open(osp.join(folder, 'train'), 'rb') as f:
        train = pickle.load(f, encoding='latin1')
    assert set(train) == {'filenames', 'batch_label', 'fine_labels', 'coarse_labels', 'data'}
    assert train['data'].shape == (24, 3072) and train['data'].dtype == np.uint8
    with open(osp.join(folder, 'meta'), 'rb') as f:
        meta = pickle.load(f, encoding='latin1')
    assert meta['fine_label_names'] == list(toy_maker.FINE_CLASSES)
    assert len(meta['coarse_label_names']) == max(train['coarse_labels']) + 1


@pytest.mark.parametrize('split,num', [('train', 24), ('test', 16)])
def test_cifar100_reads_images_labels_and_classes(toy_cifar, toy_maker, split, num):
    ds = _build(dict(type='CIFAR100', data_root=toy_cifar, split=split))
    assert len(ds) == num
    assert ds.metainfo['classes'] == toy_maker.FINE_CLASSES
    for i in (0, num - 1):
        item = ds.get_data_info(i)
        img, label = toy_maker.render_image(0, split, i)
        assert item['img'].shape == (32, 32, 3) and item['img'].dtype == np.uint8
        np.testing.assert_array_equal(item['img'], img)  # planes -> HWC RGB, pixel exact
        assert item['gt_label'] == label
    assert ds.get_gt_labels().tolist() == [toy_maker.render_image(0, split, i)[1]
                                           for i in range(num)]


def test_cifar10_reads_its_batches(tmp_path):
    folder = tmp_path / 'cifar-10-batches-py'
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5',
             'test_batch']
    batches = {n: dict(data=rng.integers(0, 256, (3, 3072), dtype=np.uint8),
                       labels=rng.integers(0, 10, 3).tolist()) for n in names}
    for name, batch in batches.items():
        with open(folder / name, 'wb') as f:
            pickle.dump(batch, f)
    with open(folder / 'batches.meta', 'wb') as f:
        pickle.dump(dict(label_names=[f'c{i}' for i in range(10)]), f)
    train = _build(dict(type='CIFAR10', data_root=str(tmp_path), split='train'))
    test = _build(dict(type='CIFAR10', data_root=str(tmp_path), split='test'))
    assert len(train) == 15 and len(test) == 3
    assert train.metainfo['classes'] == tuple(f'c{i}' for i in range(10))
    first = batches['data_batch_2']
    item = train.get_data_info(3)
    np.testing.assert_array_equal(item['img'][..., 1], first['data'][0, 1024:2048].reshape(32, 32))
    assert item['gt_label'] == first['labels'][0]


def test_missing_files_say_where_to_put_what(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        _build(dict(type='CIFAR100', data_root=str(tmp_path / 'cifar100'), split='train'))
    msg = str(e.value)
    for part in ('train', 'meta', osp.join(str(tmp_path), 'cifar100', 'cifar-100-python'),
                 'cifar-100-python.tar.gz', 'never downloads', 'make_toy_cifar.py'):
        assert part in msg, part
    with pytest.raises(FileNotFoundError, match='data_batch_1.*cifar-10-python.tar.gz'):
        _build(dict(type='CIFAR10', data_root=str(tmp_path), split='train'))
    with pytest.raises(ValueError, match='split must be one of'):
        _build(dict(type='CIFAR100', data_root=str(tmp_path), split='val'))


def test_toy_maker_is_deterministic_and_has_a_cli(tmp_path, toy_maker, capsys):
    toy_maker.main(['--out', str(tmp_path / 'a'), '--num-train', '6', '--num-test', '3'])
    out = capsys.readouterr().out
    assert 'train: 6 images' in out and 'test : 3 images' in out and 'Done in' in out
    toy_maker.make_toy_cifar(str(tmp_path / 'b'), 6, 3, seed=0, log_every=0)
    for name in ('train', 'test', 'meta'):
        a = (tmp_path / 'a' / 'cifar-100-python' / name).read_bytes()
        assert a == (tmp_path / 'b' / 'cifar-100-python' / name).read_bytes(), name


def test_train_pipeline_packs_cropped_flipped_images(toy_cifar):
    from muse_det.structures import ClsDataSample
    ds = _build(dict(type='CIFAR100', data_root=toy_cifar, split='train', pipeline=[
        dict(type='ClsRandomCrop', crop_size=32, padding=4),
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='PackInputs')]))
    out = ds[5]
    assert out['inputs'].shape == (3, 32, 32) and out['inputs'].dtype == torch.uint8
    sample = out['data_samples']
    assert isinstance(sample, ClsDataSample)
    assert sample.gt_label.tolist() == [ds.get_data_info(5)['gt_label']]
    assert sample.flip and sample.sample_idx == 5 and sample.img_shape == (32, 32)


def test_random_crop_is_a_window_of_the_padded_image():
    from mmengine.registry import init_default_scope
    from muse_det.registry import TRANSFORMS
    init_default_scope('mmdet')
    img = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    crop = TRANSFORMS.build(dict(type='ClsRandomCrop', crop_size=8, padding=2, pad_val=255))
    padded = np.pad(img, ((2, 2), (2, 2), (0, 0)), constant_values=255)
    np.random.seed(0)
    for _ in range(5):
        out = crop(dict(img=img.copy()))['img']
        assert out.shape == (8, 8, 3)
        assert any((padded[y:y + 8, x:x + 8] == out).all()
                   for y in range(5) for x in range(5))
    with pytest.raises(ValueError, match='smaller than crop_size'):
        TRANSFORMS.build(dict(type='ClsRandomCrop', crop_size=16))(dict(img=img))
