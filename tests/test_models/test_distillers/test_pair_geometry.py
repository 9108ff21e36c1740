"""Positive pairs are one image point, padding is never sampled, and loss_muse
is a pair mean: checked on a real mmdet RetinaNet (ResNet-18 + FPN) through
the distiller."""
import math

import pytest
import torch
from test_distiller import build

from muse_det.information import PairSampler, align_maps
from muse_det.models.recorders.receptive_field import uniform_weights_

# the FPN levels P3..P7, the shallower taught by P7
FPN = [f'neck[{i}]' for i in range(5)]


def samples(img_shapes, size):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    out = []
    for i, (h, w) in enumerate(img_shapes):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(h, w),
                ori_shape=(h, w),
                scale_factor=(1., 1.),
                pad_shape=(size, size),
                batch_input_shape=(size, size)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 8., 40. + i, 48.]]),
            labels=torch.tensor([i % 3]))
        out.append(s)
    return out


def rf_centre(value: torch.Tensor, image: torch.Tensor):
    """(y, x) centre of mass of |d value / d image|: where in the image
    ``value`` looks."""
    (grad, ) = torch.autograd.grad(value, image, retain_graph=True)
    weight = grad[0].abs().sum(0)
    ys = torch.arange(weight.shape[0], dtype=weight.dtype)[:, None]
    xs = torch.arange(weight.shape[1], dtype=weight.dtype)[None, :]
    total = weight.sum()
    return (weight * ys).sum().item() / total.item(), (
        weight * xs).sum().item() / total.item()


def test_sampled_pairs_look_at_the_same_image_point(arch_cfg):
    """Geometric receptive fields (uniform positive weights: every ReLU passes,
    a pixel's input gradient is its receptive field) measured at the image
    centre, where zero padding truncates them symmetrically: each sampled
    student pixel looks within one student stride (per axis) of its target
    pixel. The cell-centre resampling this replaced put P3 60 px away from P7
    on a 256 px image; reading P3's pixel 16 i without the measured offsets, 9
    px (over a P3 stride)."""
    d = build(
        arch_cfg, features=FPN, loss=dict(type='MUSELoss', num_samples=4))
    uniform_weights_(d.architecture)
    for size in (512, 768):
        image = torch.ones(1, 3, size, size, requires_grad=True)
        feats = d.architecture.extract_feat(image)
        i = size // 256  # the P7 pixel on the image centre
        for pair, loss in zip(d.pairs, d.pair_losses):
            level = int(pair.student[1][5])
            sampler = loss.sampler
            assert sampler.strides == (2**(3 + level), 128)
            a_s, a_t, stride = align_maps(feats[level], feats[4],
                                          sampler.strides, sampler.grid,
                                          sampler.fine_read, sampler.offsets)
            assert stride == 128 and a_t.shape[-2:] == (size // 128,
                                                        size // 128)
            cs = rf_centre(a_s[0, :, i, i].sum(), image)
            ct = rf_centre(a_t[0, :, i, i].sum(), image)
            assert max(abs(a - b)
                       for a, b in zip(cs, ct)) <= sampler.strides[0], (pair,
                                                                        cs, ct)
            # P7's pixel i sits near 128 i
            assert math.dist(ct, (size / 2, size / 2)) <= 4


def test_receptive_field_offsets_of_fpn_levels(arch_cfg):
    d = build(
        arch_cfg, features=FPN, loss=dict(type='MUSELoss', num_samples=4))
    offsets = {
        pair.student[1]: loss.sampler.offsets[0]
        for pair, loss in zip(d.pairs, d.pair_losses)
    }
    target = d.pair_losses[0].sampler.offsets[1]
    # nearest top-down upsampling leans P3 and P4 up-left; P5..P7 sit on S * i
    # (the stem's max-pool moves every level alike, so only differences matter)
    for name, (dy, dx) in offsets.items():
        assert dy == pytest.approx(dx, abs=1e-3)
    assert offsets['neck[0]'][0] - target[0] == pytest.approx(-9.1, abs=1.0)
    assert offsets['neck[1]'][0] - target[0] == pytest.approx(-8.5, abs=1.0)
    assert offsets['neck[2]'][0] - target[0] == pytest.approx(0.0, abs=0.5)
    assert offsets['neck[3]'][0] - target[0] == pytest.approx(0.0, abs=0.5)


def test_padding_is_never_sampled_by_the_distiller(arch_cfg, monkeypatch):
    d = build(
        arch_cfg, features=FPN, loss=dict(type='MUSELoss', num_samples=64))
    d.train()
    drawn = []
    draw = PairSampler.draw

    def spy(self, batch, size, extents=None, weights=None):
        out = draw(self, batch, size, extents, weights)
        drawn.append((size, extents, out))
        return out

    monkeypatch.setattr(PairSampler, 'draw', spy)
    # image 0 fills the top-left 200 x 120 px of the 256 x 256 batch;
    # image 1 all of it
    d.loss(torch.rand(2, 3, 256, 256), samples([(200, 120), (256, 256)], 256))
    assert len(drawn) == 1  # the 4 pairs taught by P7 share its draw
    for size, extents, (images, locations) in drawn:
        assert size == (2, 2)  # P7's native grid (stride 128), never upsampled
        # centres 0 and 128 px: column 128 > 120 is padding
        assert extents == [(2, 1), (2, 2)]
        cols = locations % size[1]
        assert (cols[images == 0] < 1).all() and (images == 0).sum() == 2


def test_no_two_target_samples_of_an_image_are_duplicates(arch_cfg):
    d = build(
        arch_cfg,
        features=['neck[0]', 'neck[2]'],
        loss=dict(type='MUSELoss', num_samples=64))
    d.train()
    kept = {}
    loss = d.pair_losses[0]
    loss.register_forward_hook(lambda m, args, out: kept.update(args=args))
    d.loss(torch.rand(2, 3, 256, 256), samples([(256, 256), (256, 256)], 256))
    s, t = loss.sample(kept['args'][0], kept['args'][1].detach(),
                       [(256, 256)] * 2)
    assert t.shape[0] == 2 * 64
    for image in t.view(2, 64, -1):
        assert torch.unique(image, dim=0).shape[0] == 64


def test_loss_is_the_pair_weighted_mean(arch_cfg):
    pairs = [('neck[0]', 'neck[4]', 1.0), ('neck[1]', 'neck[4]', 3.0)]
    d = build(
        arch_cfg,
        features=['neck[0]', 'neck[1]', 'neck[4]'],
        pairs=pairs,
        loss=dict(type='MUSELoss', num_samples=16))
    d.train()
    per_pair = []
    for loss in d.pair_losses:
        loss.register_forward_hook(
            lambda m, args, out: per_pair.append(out['loss']))
    losses = d.loss(torch.rand(2, 3, 128, 128), samples([(128, 128)] * 2, 128))
    expected = (1.0 * per_pair[0] + 3.0 * per_pair[1]) / 4.0
    assert losses['loss_muse'].item() == pytest.approx(
        expected.item(), rel=1e-6)


def test_grad_ratio_is_distill_over_task_gradient_at_each_student(arch_cfg):
    from mmengine.logging import MessageHub
    d = build(
        arch_cfg,
        features=['neck[0]', 'neck[1]', 'neck[4]'],
        grad_stats_interval=5,
        loss=dict(type='MUSELoss', num_samples=16))
    d.train()
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 3)
    assert not any(
        k.startswith('grad_ratio/') for k in d.loss(
            torch.rand(2, 3, 128, 128), samples([(128, 128)] * 2, 128)))
    hub.update_info('iter', 10)
    rec = d.recorders['architecture']
    captured = {}
    orig = rec.get
    rec.get = lambda name: captured.setdefault(name, orig(name))
    losses = d.loss(torch.rand(2, 3, 128, 128), samples([(128, 128)] * 2, 128))
    assert set(k for k in losses if k.startswith('grad_ratio/')) == \
        {'grad_ratio/neck.0', 'grad_ratio/neck.1'}
    # per-level lists
    task = sum(sum(losses[k]) for k in ('loss_cls', 'loss_bbox'))
    for name in ('neck[0]', 'neck[1]'):
        f = captured[name]
        (g_t, ) = torch.autograd.grad(task, f, retain_graph=True)
        (g_d, ) = torch.autograd.grad(
            losses['loss_muse'], f, retain_graph=True)
        expected = g_d.norm() / g_t.norm()
        assert (losses[f'grad_ratio/{name.replace("[", ".").rstrip("]")}'].
                item() == pytest.approx(expected.item(), rel=1e-5))
