"""MUSESelfDistiller around a real mmdet RetinaNet: losses, gradients,
predictions, export."""
import copy
import logging

import pytest
import torch
from mmengine.config import Config

from muse_det.models.distillers.export import strip_distiller


def _samples(n=2, size=128):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    out = []
    for i in range(n):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1., 1.),
                pad_shape=(size, size),
                batch_input_shape=(size, size)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 16., 80. + i, 96.]]),
            labels=torch.tensor([i % 3]))
        out.append(s)
    return out


def build(arch_cfg, **kw):
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    torch.manual_seed(0)
    cfg = dict(type='MUSESelfDistiller', architecture=copy.deepcopy(arch_cfg))
    cfg.update(kw)
    return MODELS.build(cfg)


def test_default_features_pairs_and_loss_dict(arch_cfg):
    d = build(arch_cfg, loss=dict(type='MUSELoss', grid=8, num_samples=32))
    # the backbone's stages, the shallower taught by the deepest
    stages = [f'backbone.layer{i}' for i in range(1, 5)]
    assert d.recorders['architecture'].names == stages
    assert [(p.student[1], p.target[1]) for p in d.pairs] == \
        [(s, 'backbone.layer4') for s in stages[:3]]
    d.train()
    losses = d.loss(torch.rand(2, 3, 128, 128), _samples())
    assert {'loss_cls', 'loss_bbox', 'loss_muse'} <= set(losses)
    for i in range(1, 4):
        mi = f'mi/backbone.layer{i}--backbone.layer4'
        assert mi in losses and f'entropy/backbone.layer{i}' in losses
        assert not losses[mi].requires_grad
    assert losses['loss_muse'].requires_grad and torch.isfinite(
        losses['loss_muse'])


def test_pairs_sharing_a_target_draw_its_locations_once(arch_cfg):
    """Four pairs taught by neck[4]: one draw of its grid per step -- the
    generator advances exactly as by a single draw."""
    d = build(
        arch_cfg,
        features=[f'neck[{i}]' for i in range(5)],
        loss=dict(type='MUSELoss', num_samples=2))
    d.train()
    before = d.sample_generator.get_state()
    size = 256  # neck[4]: a 2 x 2 grid
    losses = d.loss(torch.rand(2, 3, size, size), _samples(size=size))
    assert sum(k.startswith('mi/') for k in losses) == 4
    one_draw = torch.Generator()
    one_draw.set_state(before)
    torch.rand(2, 2, 2, generator=one_draw)
    assert torch.equal(d.sample_generator.get_state(), one_draw.get_state())


def test_fpn_levels_taught_by_the_head_tower_at_the_same_scale(arch_cfg):
    """``bbox_head.cls_convs.3@k``: the head's last tower conv on level k
    (a deeper computation at the same stride) teaches ``neck[k]``; the
    geometry is measured through the tensor-mode forward."""
    pairs = [(f'neck[{k}]', f'bbox_head.cls_convs.3@{k}') for k in range(3)]
    d = build(
        arch_cfg,
        features=[p for pair in pairs for p in pair],
        pairs=pairs,
        loss=dict(type='MUSELoss', num_samples=16))
    assert [loss.sampler.strides for loss in d.pair_losses] == [(8.0, 8.0),
                                                                (16.0, 16.0),
                                                                (32.0, 32.0)]
    d.train()
    losses = d.loss(torch.rand(2, 3, 128, 128), _samples())
    assert torch.isfinite(losses['loss_muse'])
    assert 'mi/neck.2--bbox_head.cls_convs.3@2' in losses
    losses['loss_muse'].backward()
    assert d.architecture.neck.fpn_convs[0].conv.weight.grad.abs().sum() > 0


def test_box_weight_gets_each_images_ground_truth_boxes(arch_cfg, monkeypatch):
    """The distiller hands every pair loss the images' gt boxes; with
    ``box_weight`` the sampler's location weights mark the box."""
    from muse_det.information.sampling import PairSampler
    seen = []
    draw = PairSampler.draw

    def spy(self, batch, size, extents=None, weights=None):
        seen.append(weights)
        return draw(self, batch, size, extents, weights)

    monkeypatch.setattr(PairSampler, 'draw', spy)
    d = build(
        arch_cfg,
        features=['neck[0]', 'neck[2]'],
        loss=dict(type='MUSELoss', num_samples=8, box_weight=5.0))
    d.train()
    d.loss(torch.rand(2, 3, 128, 128), _samples())
    (weights, ) = seen
    # neck[2]: stride 32, a 4 x 4 grid; image 0's box is x 8..80, y 16..96
    inside = torch.zeros(4, 4)
    inside[1:4, 1:3] = 1
    assert torch.equal(weights[0], 1 + 4 * inside)


def test_gradients_reach_student_and_adapters_not_detached_target(arch_cfg):
    d = build(
        arch_cfg,
        features=['neck[0]', 'neck[4]'],
        loss=dict(type='MUSELoss', grid=4, num_samples=16))
    d.train()
    losses = d.loss(torch.rand(2, 3, 128, 128), _samples())
    losses['loss_muse'].backward()
    fpn = d.architecture.neck.fpn_convs
    assert fpn[0].conv.weight.grad is not None and fpn[0].conv.weight.grad.abs(
    ).sum() > 0
    # neck[4] is the target (detached): MUSE alone sends it no gradient
    assert fpn[4].conv.weight.grad is None
    loss_params = list(d.pair_losses.parameters())
    assert loss_params and all(p.grad is not None
                               for p in loss_params if p.requires_grad)


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.mark.parametrize('stages, frozen',
                         [((1, 2, 3, 4), ['backbone.layer1']),
                          ((2, 3, 4), [])])
def test_a_student_of_frozen_stages_is_named_once_with_the_fix(
        arch_cfg, stages, frozen):
    """mmdet's RetinaNet freezes its stem and layer1 (``frozen_stages=1``):
    a pair teaching layer1 can change nothing, and the first training step
    says so, naming the students that do train; layer2..4 train and raise
    no warning."""
    from mmengine.logging import MMLogger
    assert arch_cfg.backbone.frozen_stages == 1
    d = build(
        arch_cfg,
        features=[f'backbone.layer{i}' for i in stages],
        loss=dict(type='MUSELoss', num_samples=8))
    d.train()
    records = _Records()
    logger = MMLogger.get_current_instance()
    logger.addHandler(records)
    try:
        # a call without gradients (e.g. a validation loss) says nothing
        # and leaves the check to the first training step
        with torch.no_grad():
            d.loss(torch.rand(2, 3, 128, 128), _samples())
        assert not records.messages
        for _ in range(2):
            d.loss(torch.rand(2, 3, 128, 128), _samples())
    finally:
        logger.removeHandler(records)
    warned = [m for m in records.messages if 'carry no gradient' in m]
    if not frozen:
        assert warned == []
        return
    assert len(warned) == 1  # the first step only
    assert f'{frozen}' in warned[0] and 'leave the frozen ones out of ' \
        '`features`' in warned[0]
    assert "The students that train: ['backbone.layer2', " \
        "'backbone.layer3']" in warned[0]


def test_predict_and_tensor_modes_are_the_plain_detector(arch_cfg):
    d = build(
        arch_cfg, loss=dict(type='MUSELoss', grid=8, num_samples=32)).eval()
    x, samples = torch.rand(2, 3, 128, 128), _samples()
    with torch.no_grad():
        ours = d(x, copy.deepcopy(samples), mode='predict')
        plain = d.architecture(x, copy.deepcopy(samples), mode='predict')
        t_ours = d(x, mode='tensor')
        t_plain = d.architecture(x, mode='tensor')
    for a, b in zip(ours, plain):
        assert torch.equal(a.pred_instances.bboxes, b.pred_instances.bboxes)
        assert torch.equal(a.pred_instances.scores, b.pred_instances.scores)
    for a, b in zip(t_ours[0], t_plain[0]):
        assert torch.equal(a, b)
    # hooks of the MUSE head are not left on the model
    assert all(not m._forward_hooks for m in d.modules())


def test_export_gives_a_plain_detector_state_dict(arch_cfg):
    from mmdet.registry import MODELS
    d = build(arch_cfg, loss=dict(type='MUSELoss', grid=8, num_samples=32))
    state = d.state_dict()
    assert any(k.startswith('pair_losses.') for k in state)
    plain, dropped = strip_distiller(state)
    # adapters/critics, the target adapters pairs share, and the sampling
    # generator's state (`_extra_state`)
    assert any(k.startswith('target_adapters.') for k in dropped)
    assert dropped and all(
        k.startswith(('pair_losses.',
                      'target_adapters.')) or k == '_extra_state'
        for k in dropped)
    det = MODELS.build(copy.deepcopy(arch_cfg))
    det.load_state_dict(plain, strict=True)
    with pytest.raises(
            ValueError, match='not a muse-det distiller checkpoint'):
        strip_distiller(plain)


@pytest.mark.parametrize('kind', ['l2', 'at', 'nst', 'cosine', 'vid', 'crd'])
def test_baseline_is_one_key_away(arch_cfg, kind):
    d = build(
        arch_cfg,
        features=['neck[1]', 'neck[3]'],
        loss=dict(type=kind, grid=4, num_samples=16))
    d.train()
    losses = d.loss(torch.rand(2, 3, 128, 128), _samples())
    assert f'loss_{kind}' in losses and torch.isfinite(losses[f'loss_{kind}'])
    losses[f'loss_{kind}'].backward()


@pytest.mark.parametrize('kwargs, message', [
    (dict(features=['neck.fpn_conv.0', 'neck[4]']),
     "unknown feature 'neck.fpn_conv.0'"),
    (dict(features=['neck[0]', 'neck[9]']), r'index \[9\] is out of range'),
    (dict(features=['bbox_head.retina_cls', 'neck[4]']),
     'computed by extract_feat'),
    (dict(features=['neck[0]']), 'at least 2 features'),
    (dict(features=['neck[0]', 'neck[0]']), 'lists a name twice'),
    (dict(features=['neck[0]', 'neck[4]'], pairs=[
        ('neck[0]', 'neck[3]')
    ]), "uses 'neck\\[3\\]', which is not in `features`"),
    (dict(features=['neck[0]', 'neck[4]'], pairs=[
        ('neck[0]', 'neck[4]', -1)
    ]), r'pairs\[0\] weight must be a finite non-negative number'),
    (dict(loss=dict(type='MUSELoss', variant='additiv')), 'additive'),
    (dict(loss='MUSELoss'), 'must be a config dict'),
])
def test_bad_configs_fail_at_build_with_clear_errors(arch_cfg, kwargs,
                                                     message):
    with pytest.raises((ValueError, KeyError), match=message):
        build(arch_cfg, **kwargs)


def test_weight_scale_and_stop(arch_cfg):
    d = build(
        arch_cfg,
        features=['neck[2]', 'neck[4]'],
        loss=dict(type='MUSELoss', grid=4, num_samples=16))
    d.train()
    x, s = torch.rand(2, 3, 128, 128), _samples()
    torch.manual_seed(1)
    full = d.loss(x, s)['loss_muse']
    d.distill_weight_scale = 0.25
    torch.manual_seed(1)
    quarter = d.loss(x, s)['loss_muse']
    assert torch.allclose(quarter, 0.25 * full, rtol=1e-4, atol=1e-6)
    d.distill_weight_scale = 0.0
    stopped = d.loss(x, s)
    assert stopped['loss_muse'].item() == 0 and not any(
        k.startswith('mi/') for k in stopped)


def test_hook_schedule():
    from muse_det.engine.hooks import MUSEHook
    hook = MUSEHook(warmup_iters=10, start_factor=0.0, stop_epoch=3)
    assert hook.scale_at(0, 0) == pytest.approx(0.1)
    assert hook.scale_at(4, 0) == pytest.approx(0.5)
    assert hook.scale_at(9, 1) == 1.0 and hook.scale_at(500, 2) == 1.0
    assert hook.scale_at(501, 3) == 0.0
    assert MUSEHook(stop_iter=5).scale_at(5, 0) == 0.0
    with pytest.raises(
            ValueError, match='warmup_iters must be a non-negative integer'):
        MUSEHook(warmup_iters=-1)
    with pytest.raises(
            ValueError, match=r'start_factor must be a number in \[0, 1\]'):
        MUSEHook(start_factor='a')


def test_loss_options_are_checked_against_the_loss(arch_cfg):
    """A loss dict is the loss's own: MUSE's options merged under
    ``type='l2'`` (a config inheriting a MUSE config without ``_delete_``) are
    an error listing l2's options, as is a typo; ``_delete_`` starts afresh
    and the options l2 takes are used."""
    from muse_det.models.losses import UnknownLossOptionError
    muse = dict(
        type='MUSELoss',
        variant='additive',
        mi_estimator='jsd',
        grid=4,
        num_samples=16,
        embed_dim=64)
    with pytest.raises(
            UnknownLossOptionError,
            match=r"loss 'l2' takes no option\(s\) \['embed_dim', "
            r"'mi_estimator', 'variant'\].*'num_samples'.*_delete_=True"):
        build(
            arch_cfg,
            features=['neck[1]', 'neck[3]'],
            loss=dict(muse, type='l2'))
    with pytest.raises(
            UnknownLossOptionError,
            match="'num_sample': did you mean 'num_samples'"):
        build(
            arch_cfg,
            features=['neck[1]', 'neck[3]'],
            loss=dict(type='l2', num_sample=16))
    cfg = Config(dict(model=dict(loss=muse)))
    cfg.merge_from_dict(
        {'model.loss': dict(_delete_=True, type='l2', grid=4, num_samples=16)})
    d = build(arch_cfg, features=['neck[1]', 'neck[3]'], loss=cfg.model.loss)
    assert d.loss_key == 'loss_l2'
    assert d.pair_losses[0].sampler.num_samples == 16
    assert d.pair_losses[0].sampler.grid == (4, 4)


def test_attribute_forwarding_is_an_allow_list(arch_cfg):
    """Hooks written for plain detectors find the detector's parts on the
    distiller; anything else missing is an AttributeError that names the
    closest attribute, not a silent read of the wrapped model."""
    model = build(arch_cfg)
    assert model.bbox_head is model.architecture.bbox_head
    assert model.with_neck is True
    model.bbox_head.use_l1 = True  # YOLOX's mode switch, through the distiller
    assert model.architecture.bbox_head.use_l1 is True
    with pytest.raises(AttributeError, match="did you mean 'bbox_head'"):
        model.bbox_haed
    # a detector method outside the list is not forwarded
    assert hasattr(model.architecture, 'add_pred_to_datasample')
    with pytest.raises(AttributeError, match='forwards only'):
        model.add_pred_to_datasample
