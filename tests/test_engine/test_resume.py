"""Resuming with ``torch.load(weights_only=True)``: a run interrupted after K
iterations and resumed gives the loss series of the uninterrupted run.

Real MMEngine Runners in tmp dirs. The toy runner here is also used by
``test_atomic_checkpoint.py`` (in killed processes) and
``test_checkpoint_safety.py``.
"""
import os.path as osp
import time
import uuid

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import find_latest_checkpoint, load_checkpoint
from torch import nn
from torch.utils.data import Dataset

from muse_det.checkpoint import (MUSESafeCheckpointRunner, safe_load,
                                 unsafe_globals_in)

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow

MAX_ITERS = 12
INTERRUPT_AT = 5  # past one pass over the data: 16 samples, batch 4


class ToyModel(BaseModel):
    """An MLP regressor, same initial weights every time; ``pad`` adds an
    unused buffer to make checkpoints big."""

    def __init__(self, pad: int = 0):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.net = nn.Sequential(
                nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
        self.register_buffer('pad', torch.zeros(pad))

    def forward(self, x, y, mode='tensor'):
        pred = self.net(x).squeeze(-1)
        return dict(loss=((pred - y)**2).mean()) if mode == 'loss' else pred


class ToyDataset(Dataset):
    metainfo = dict(classes=('toy', ))

    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(
            n, 8, generator=g), torch.randn(
                n, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(x=self.x[i], y=self.y[i])


class Interrupt(Exception):
    pass


class RecordLoss(Hook):
    """Records every iteration's loss; raises ``Interrupt`` after iteration
    ``stop_after`` (once its checkpoint is written: LOWEST runs after
    CheckpointHook)."""
    priority = 'LOWEST'

    def __init__(self, stop_after=None):
        self.losses, self.stop_after = {}, stop_after

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses[runner.iter + 1] = outputs['loss'].item()
        if runner.iter + 1 == self.stop_after:
            raise Interrupt


class Sleep(Hook):

    def __init__(self, seconds):
        self.seconds = seconds

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        time.sleep(self.seconds)


def unique_name(work_dir):
    """Runners named alike share one MessageHub (and logger): give each its
    own."""
    return f'{osp.basename(str(work_dir))}_{uuid.uuid4().hex[:8]}'


def infinite_loader(dataset, batch_size, collate):
    """A shuffled infinite training loader in the main process."""
    return dict(
        dataset=dataset,
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        collate_fn=dict(type=collate))


def toy_runner(work_dir,
               max_iters=MAX_ITERS,
               hooks=(),
               pad=0,
               sleep=0.0,
               **kwargs):
    """A ``MUSESafeCheckpointRunner`` training :class:`ToyModel` with
    checkpoints
    every iteration (kwargs: Runner's, ``checkpoint``: CheckpointHook's)."""
    checkpoint = dict(
        type='CheckpointHook',
        interval=1,
        by_epoch=False,
        **kwargs.pop('checkpoint', {}))
    if sleep:
        hooks = (*hooks, Sleep(sleep))
    return MUSESafeCheckpointRunner(
        model=ToyModel(pad),
        work_dir=str(work_dir),
        train_dataloader=infinite_loader(ToyDataset(), 4, 'default_collate'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        param_scheduler=dict(
            type='MultiStepLR', milestones=[4, 8], by_epoch=False),
        train_cfg=kwargs.pop('train_cfg',
                             dict(by_epoch=False, max_iters=max_iters)),
        default_hooks=dict(
            checkpoint=checkpoint, logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=list(hooks),
        randomness=dict(seed=0),
        default_scope='mmengine',
        experiment_name=unique_name(work_dir),
        log_level='WARNING',
        **kwargs)


def train_toy(work_dir, **kwargs):
    """Train to the end (resuming when ``resume=True``); returns the recorded
    losses."""
    record = RecordLoss()
    toy_runner(
        work_dir, hooks=[record, *kwargs.pop('hooks', ())], **kwargs).train()
    return record.losses


def test_interrupted_and_resumed_run_matches_uninterrupted(tmp_path):
    full = train_toy(tmp_path / 'full')

    interrupted = RecordLoss(stop_after=INTERRUPT_AT)
    with pytest.raises(Interrupt):
        toy_runner(tmp_path / 'cut', hooks=[interrupted]).train()
    assert find_latest_checkpoint(str(
        tmp_path / 'cut')).endswith(f'iter_{INTERRUPT_AT}.pth')

    resumed_record = RecordLoss()
    resumed = toy_runner(tmp_path / 'cut', hooks=[resumed_record], resume=True)
    resumed.train()

    assert sorted(interrupted.losses) == list(range(1, INTERRUPT_AT + 1))
    assert sorted(resumed_record.losses) == list(
        range(INTERRUPT_AT + 1, MAX_ITERS + 1))
    series = {**interrupted.losses, **resumed_record.losses}
    diff = max(abs(series[i] - full[i]) for i in full)
    print(f'resume: max |loss diff| over {len(full)} iterations = {diff:.3g}')
    assert diff <= 1e-6
    # the message hub came back too: its loss history spans both runs
    history = resumed.message_hub.get_scalar('train/loss').data[0]
    assert history.tolist() == pytest.approx([full[i] for i in sorted(full)],
                                             abs=1e-6)


def test_load_from_and_load_checkpoint_read_weights_only(tmp_path):
    train_toy(tmp_path / 'src', max_iters=2)
    ckpt = str(tmp_path / 'src' / 'iter_2.pth')
    weights = safe_load(ckpt)['state_dict']

    runner = toy_runner(tmp_path / 'dst', load_from=ckpt)
    runner.load_or_resume()
    model = ToyModel()
    load_checkpoint(model, ckpt)
    for loaded in (runner.model.state_dict(), model.state_dict()):
        assert all(torch.equal(loaded[k], weights[k]) for k in weights)


def _tiny_detector_runner(work_dir, mode='self', **kwargs):
    """A narrow RetinaNet (ResNet-18, no pretrained weights) inside
    MUSESelfDistiller, on four 64x64 random images held in memory."""
    from mmdet.structures import DetDataSample
    from mmengine.hub import get_config
    from mmengine.structures import InstanceData

    class TinyDet(Dataset):
        metainfo = dict(classes=('a', 'b'))

        def __len__(self):
            return 4

        def __getitem__(self, i):
            g = torch.Generator().manual_seed(i)
            sample = DetDataSample(
                metainfo=dict(
                    img_shape=(64, 64),
                    ori_shape=(64, 64),
                    scale_factor=(1., 1.)))
            sample.gt_instances = InstanceData(
                bboxes=torch.tensor([[8., 8., 40., 44.]]) + i,
                labels=torch.tensor([i % 2]))
            return dict(
                inputs=torch.randint(
                    0, 256, (3, 64, 64), generator=g, dtype=torch.uint8),
                data_samples=sample)

    model = get_config('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py').model
    # ResNet-18 at a quarter of the width, so that a CPU step and a checkpoint
    # are quick
    model.backbone.update(
        depth=18, base_channels=16, stem_channels=16, init_cfg=None)
    model.neck.update(in_channels=[16, 32, 64, 128], out_channels=32)
    model.bbox_head.update(
        num_classes=2, in_channels=32, feat_channels=32, stacked_convs=1)
    # random location sampling: the distiller saves its sampling generator in
    # the checkpoint
    loss = dict(type='MUSELoss', num_samples=8, embed_dim=32)
    common = dict(
        features=['neck[0]', 'neck[1]'],
        probe_input_shape=(3, 64, 64),
        loss=loss)
    if mode == 'self':
        distiller = dict(
            type='MUSESelfDistiller', architecture=model, **common)
    elif mode == 'online':
        distiller = dict(
            type='MUSEOnlineDistiller', peers=[model, model], **common)
    else:
        distiller = dict(
            type='MUSEOfflineDistiller',
            architecture=model,
            teacher=model,
            **common)
    return MUSESafeCheckpointRunner(
        model=distiller,
        work_dir=str(work_dir),
        train_dataloader=infinite_loader(TinyDet(), 2, 'pseudo_collate'),
        optim_wrapper=dict(
            optimizer=dict(
                type='SGD', lr=0.001, momentum=0.9, weight_decay=1e-4)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, end=2),
            dict(type='MultiStepLR', milestones=[3], by_epoch=False)
        ],
        train_cfg=dict(by_epoch=False, max_iters=4),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1,
                            by_epoch=False)),
        randomness=dict(seed=0),
        default_scope='mmdet',
        experiment_name=unique_name(work_dir),
        log_level='WARNING',
        **kwargs)


@pytest.mark.parametrize('mode', ['self', 'online', 'offline'])
def test_resume_mmdet_detector(tmp_path, one_thread, mode):
    full = RecordLoss()
    _tiny_detector_runner(tmp_path / 'full', mode, custom_hooks=[full]).train()
    cut = RecordLoss(stop_after=2)
    with pytest.raises(Interrupt):
        _tiny_detector_runner(
            tmp_path / 'cut', mode, custom_hooks=[cut]).train()
    assert unsafe_globals_in(str(tmp_path / 'cut' / 'iter_2.pth')) == []
    rest = RecordLoss()
    _tiny_detector_runner(
        tmp_path / 'cut', mode, custom_hooks=[rest], resume=True).train()
    series = {**cut.losses, **rest.losses}
    diff = max(abs(series[i] - full.losses[i]) for i in full.losses)
    print(f'mmdet resume ({mode}): max |loss diff| = {diff:.3g}')
    assert sorted(series) == [1, 2, 3, 4] and diff <= 1e-6


def train_to_the_end(work_dir, max_iters, pad, keep):
    """The training process that ``test_atomic_checkpoint.py`` kills: resumes
    from ``work_dir`` if it can, 4 * ``pad`` bytes per checkpoint, ``keep``
    checkpoints kept."""
    torch.set_num_threads(1)
    train_toy(
        work_dir,
        max_iters=max_iters,
        pad=pad,
        sleep=0.02,
        resume=True,
        checkpoint=dict(max_keep_ckpts=keep))
    open(osp.join(work_dir, 'finished'), 'w').close()
