"""tools/analysis_tools/plot_information.py on the scalars.json of real
short trainings.

The README's MUSE FCOS-R18 and the same detector with the L2 baseline
(`model.loss = dict(_delete_=True, type='l2')`) train 2 iterations (batch 1)
and validate once on the toy set (about 10 s each on 2 cores); the tool reads
both work dirs and draws.
"""
import json
import os.path as osp
import shutil
import struct

import pytest
from muse_test_utils import ROOT, load_tool, toy_run_cfg

pytest.importorskip('matplotlib')
tool = load_tool('tools/analysis_tools/plot_information.py')
CONFIG = osp.join(ROOT, 'configs/toy/muse_fcos_r18_toy_coco.py')
# the config's backbone stages, layer1..3 taught by layer4
STUDENTS = [f'backbone.layer{i}' for i in (1, 2, 3)]
PAIRS = [f'{s}--backbone.layer4' for s in STUDENTS]


def _train(config, data_root, work_dir, **overrides):
    from mmengine.runner import Runner
    cfg = toy_run_cfg(config, data_root, work_dir, **overrides)
    # no files needed
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    # 2 images, batch 1: 2 iterations, validation
    cfg.train_dataloader.update(batch_size=1)
    cfg.train_dataloader.dataset.indices = 2
    Runner.from_cfg(cfg).train()
    return work_dir


@pytest.fixture(scope='module')
def runs(toy_coco, tmp_path_factory):
    root = tmp_path_factory.mktemp('plot_runs')
    muse = _train(CONFIG, toy_coco, str(root / 'muse'),
                  **{'model.grad_stats_interval': 1})
    l2 = _train(CONFIG, toy_coco, str(root / 'l2'),
                **{'model.loss': dict(_delete_=True, type='l2')})
    return muse, l2


def _png_size(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    assert head[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG file'
    assert head[12:16] == b'IHDR'
    return struct.unpack('>II', head[16:24])


def test_plot_muse_and_baseline(runs, tmp_path, capsys):
    muse, l2 = runs
    out = tmp_path / 'curves.png'
    parsed, written = tool.main([
        muse, l2, '--labels', 'MUSE', 'L2', '--out',
        str(out), '--metric', 'coco/bbox_mAP', '--smooth', '2'
    ])
    assert written == str(out) and out.is_file()
    width, height = _png_size(out)
    assert 800 <= width <= 3000 and 500 <= height <= 2000
    assert 10_000 < out.stat().st_size < 1_000_000

    m, b = parsed
    assert m.label == 'MUSE' and b.label == 'L2'
    assert m.mi_keys == [f'mi/{p}' for p in PAIRS]
    assert m.entropy_keys == [f'entropy/{s}' for s in STUDENTS]
    assert m.loss_keys == ['loss_muse'] and b.loss_keys == ['loss_l2']
    # a baseline logs no information terms
    assert b.mi_keys == [] and b.entropy_keys == []
    assert m.grad_ratio_keys == [f'grad_ratio/{s}' for s in STUDENTS]
    assert all(
        len(m.train[k][1]) == 2 and (m.train[k][1] > 0).all()
        for k in m.grad_ratio_keys)
    assert b.grad_ratio_keys == []
    for run in parsed:
        xs, ys = run.train[run.loss_keys[0]]
        assert xs.tolist() == [1.0, 2.0] and len(ys) == 2
        # validation after the 2nd iteration is placed there
        # (its `step` is the epoch)
        vx, vy = run.val['coco/bbox_mAP']
        assert vx.tolist() == [2.0] and 0.0 <= vy[0] <= 1.0
    # MUSEHook(warmup_iters=50): 1/50, 2/50
    assert m.train['muse_weight_scale'][1].tolist() == pytest.approx(
        [0.02, 0.04])

    printed = capsys.readouterr().out
    assert ("run 'MUSE': 1 file(s)" in printed and f'mi/{PAIRS[0]}' in printed)
    assert 'training: 2 points' in printed and f'wrote {out}' in printed


def test_read_scalars_function(runs):
    muse, _ = runs
    files = tool.find_scalars(muse)
    assert len(files) == 1 and files[0].endswith(
        osp.join('vis_data', 'scalars.json'))
    train, val = tool.read_scalars(files)
    assert {f'mi/{p}' for p in PAIRS} <= set(train)
    assert 'loss' in train and 'iter' not in train and 'step' not in train
    assert set(val) >= {'coco/bbox_mAP', 'coco/bbox_mAP_50'
                        } and 'step' not in val


def test_all_runs_and_path_forms(runs, tmp_path):
    """A resumed run: two timestamp folders, read newest or all; a folder
    or file path."""
    muse, _ = runs
    src = tool.find_scalars(muse)[0]
    work = tmp_path / 'resumed'
    rows = [json.loads(line) for line in open(src)]
    first = work / '20240101_000000' / 'vis_data'
    second = work / '20240102_000000' / 'vis_data'
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    shutil.copy(src, first / 'scalars.json')
    # iterations 3, 4 after a resume
    with open(second / 'scalars.json', 'w') as f:
        for row in rows:
            if 'iter' in row:
                row = dict(row, iter=row['iter'] + 2, step=row['step'] + 2)
            f.write(json.dumps(row) + '\n')
        f.write('{"loss": 1.0, "it')  # a line being written
    newest = tool.load_run(str(work))
    assert newest.train['loss'][0].tolist() == [3.0, 4.0]
    both = tool.load_run(str(work), all_runs=True)
    assert both.train['loss'][0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert both.val['coco/bbox_mAP'][0].tolist() == [2.0, 4.0]
    assert tool.find_scalars(str(first)) == [str(first / 'scalars.json')]
    assert tool.find_scalars(str(
        first.parent)) == [str(first / 'scalars.json')]


def test_errors(runs, tmp_path, capsys):
    muse, l2 = runs
    with pytest.raises(SystemExit) as e:
        tool.main(
            [str(tmp_path / 'missing'), '--out',
             str(tmp_path / 'x.png')])
    assert e.value.code == 1
    assert 'does not exist' in capsys.readouterr().err

    empty = tmp_path / 'empty_work_dir'
    # a run without LocalVisBackend
    (empty / '20240101_000000').mkdir(parents=True)
    with pytest.raises(SystemExit):
        tool.main([str(empty), '--out', str(tmp_path / 'x.png')])
    err = capsys.readouterr().err
    assert ('no scalars.json' in err and 'LocalVisBackend' in err
            and 'LoggerHook' in err)

    with pytest.raises(SystemExit):
        tool.main([
            muse, l2, '--metric', 'coco/segm_mAP', '--out',
            str(tmp_path / 'x.png')
        ])
    err = capsys.readouterr().err
    assert ("metric 'coco/segm_mAP' is in no run" in err
            and 'coco/bbox_mAP_50' in err)
    assert not (tmp_path / 'x.png').exists()

    with pytest.raises(SystemExit) as e:
        tool.main([muse, l2, '--labels', 'only-one'])
    assert e.value.code == 2  # argparse


def test_distill_method_names_match_the_losses():
    from muse_det.information import PAIR_LOSSES
    assert {cls.name
            for cls in PAIR_LOSSES.values()} | {'distill'} == set(
                tool.DISTILL_METHODS)
