"""Paired seeds: a distilled run of a seed starts from the plain run's weights.

The placebo (MUSE at ``loss_weight=0``) trained with a real Runner must give
the plain detector of the same config and seed bit for bit while gradient
clipping does not act: same initial weights (what the distiller adds is built
on a random stream of its own), same data order and flips, and a zero loss
that sends nothing to the detector. Clipping that acts divides by a norm that
also sums the placebo's zero adapter gradients, a longer float sum that may
round differently in its last bit (the second test).
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from muse_test_utils import ROOT, toy_data_cfg

from muse_det.models.distillers.isolated_rng import derived_seed, isolated_rng
from muse_det.utils.launch import build_runner

CONFIG = osp.join(ROOT, 'configs/toy/muse_fcos_r18_toy_coco_multiscale.py')
ITERS = 20
# a clip every step acts on
CLIP = 1.0


class LossLog(Hook):
    """Every training iteration's logged values (no parameters)."""

    def __init__(self):
        self.steps = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        step = {k: float(v) for k, v in outputs.items()}
        # the total norm before clipping, as the optimiser wrapper logged it
        if 'train/grad_norm' in runner.message_hub.log_scalars:
            step['grad_norm'] = runner.message_hub.get_scalar(
                'train/grad_norm').current()
        self.steps.append(step)


def train(toy_coco, work_dir, placebo: bool, clip=None, seed: int = 3):
    cfg = Config.fromfile(CONFIG)
    # the config's own detector (6 classes) on the 3-class toy set
    cfg.merge_from_dict(toy_data_cfg(toy_coco))
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.visualizer.name = f'visualizer_{work_dir}'
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    if placebo:
        cfg.model.loss.loss_weight = 0.0
    else:
        cfg.model = cfg.model.architecture
        cfg.custom_hooks = []
    # the config's optimiser (AdamW), its clipping tightened so that it
    # clips every step
    cfg.optim_wrapper.clip_grad = None if clip is None else dict(
        max_norm=clip, norm_type=2)
    cfg.train_dataloader.dataset.indices = 8
    cfg.train_dataloader.sampler.shuffle = True
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=ITERS)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=seed, deterministic=False)
    log = LossLog()
    runner = build_runner(cfg)
    runner.register_hook(log)
    runner.train()
    model = runner.model
    detector = model.architecture if placebo else model
    return detector.state_dict(), log.steps, runner


@pytest.mark.usefixtures('one_thread')
def test_placebo_equals_plain_bit_for_bit(toy_coco, tmp_path):
    # the config's own clipping (max_norm 35): the norms of these steps stay
    # under it, so the clip multiplies by exactly 1
    plain_state, plain_steps, _ = train(
        toy_coco, str(tmp_path / 'plain'), placebo=False, clip=35)
    placebo_state, placebo_steps, _ = train(
        toy_coco, str(tmp_path / 'placebo'), placebo=True, clip=35)
    # the placebo really ran MUSE: its loss term was logged every step
    assert all(s['loss_muse'] == 0.0 for s in placebo_steps)
    assert any(k.startswith('mi/') for k in placebo_steps[-1])
    assert len(placebo_steps) == len(plain_steps) == ITERS
    assert all(s['grad_norm'] < 35 for s in plain_steps)
    for plain, placebo in zip(plain_steps, placebo_steps):
        for key, value in plain.items():
            if key.startswith('loss'):
                assert placebo[key] == value, (key, placebo[key], value)
        # the logged norm also sums the adapters' zero gradients: the same
        # value up to the rounding of a longer sum
        assert placebo['grad_norm'] == pytest.approx(
            plain['grad_norm'], rel=1e-6)
    assert plain_state.keys() == placebo_state.keys()
    differ = [
        k for k in plain_state
        if not torch.equal(plain_state[k], placebo_state[k])
    ]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:3]}'
    # and the detector did train (not two untouched initialisations)
    assert plain_steps[-1]['loss'] != plain_steps[0]['loss']


@pytest.mark.usefixtures('one_thread')
def test_placebo_under_active_clipping_differs_by_rounding_only(
        toy_coco, tmp_path):
    """Where clipping acts, the clip factor divides by the total norm, which
    for the placebo also sums its adapters' exact-zero gradient norms: a
    longer float sum, which can round differently in the last bit. The runs
    are identical until the first step where it does; after it they differ
    by what such a rounding grows to, not by a training signal."""
    plain_state, plain_steps, _ = train(
        toy_coco, str(tmp_path / 'plain'), placebo=False, clip=CLIP)
    placebo_state, placebo_steps, _ = train(
        toy_coco, str(tmp_path / 'placebo'), placebo=True, clip=CLIP)
    assert all(s['grad_norm'] > CLIP for s in plain_steps)
    first = next((i
                  for i, (a, b) in enumerate(zip(plain_steps, placebo_steps))
                  if a['grad_norm'] != b['grad_norm']), ITERS)
    for plain, placebo in zip(plain_steps[:first + 1],
                              placebo_steps[:first + 1]):
        # the step's losses come before its update: equal up to it
        assert placebo['loss'] == plain['loss']
    for plain, placebo in zip(plain_steps, placebo_steps):
        assert placebo['grad_norm'] == pytest.approx(
            plain['grad_norm'], rel=1e-4)
    for key, value in plain_state.items():
        if value.is_floating_point():
            scale = value.abs().max().clamp_min(1e-6)
            assert (placebo_state[key] - value).abs().max() <= 1e-2 * scale


def test_isolated_rng_leaves_the_global_stream_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    with isolated_rng('pair_losses'):
        inside = torch.rand(3)
    assert torch.equal(torch.rand(3), expected)
    # the block's draws depend on the seed and the tag only
    torch.manual_seed(5)
    torch.rand(100)  # however much of the global stream was consumed
    with isolated_rng('pair_losses'):
        assert torch.equal(torch.rand(3), inside)
    with isolated_rng('peer1'):
        assert not torch.equal(torch.rand(3), inside)
    torch.manual_seed(6)
    with isolated_rng('pair_losses'):
        assert not torch.equal(torch.rand(3), inside)
    assert derived_seed(5, 'a') != derived_seed(5, 'b')
    assert 0 <= derived_seed(2**62, 'teacher') < 2**63
