"""The classifiers of the classification configs are mmpretrain's
(CIFAR-stem ResNet, ImageClassifier, linear head, losses, data preprocessor,
other backbones), and the distillers wrap them: modes, losses, the top-level
data preprocessor."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from cls_helpers import ROOT

CONFIGS = osp.join(ROOT, 'configs', 'classification')


@pytest.fixture(autouse=True)
def _scope():
    from mmengine.registry import init_default_scope

    import muse_det  # noqa: F401
    init_default_scope('mmpretrain')
    torch.manual_seed(0)


def build(cfg):
    from mmengine.registry import MODELS
    return MODELS.build(cfg)


def classifier(num_classes=5, **backbone):
    return build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                dict(
                    type='ResNet_CIFAR',
                    depth=18,
                    stem_channels=8,
                    base_channels=8), **backbone),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=num_classes,
                in_channels=64,
                topk=(1, 2),
                cal_acc=True),
            data_preprocessor=dict(
                type='ClsDataPreprocessor', mean=[128] * 3, std=[64] * 3)))


def samples(labels):
    from mmpretrain.structures import DataSample
    return [DataSample().set_gt_label(y) for y in labels]


@pytest.mark.parametrize('depth,channels', [(18, (16, 32, 64, 128)),
                                            (50, (64, 128, 256, 512))])
def test_cifar_stem_keeps_32px_at_the_first_stage(depth, channels):
    net = build(
        dict(
            type='ResNet_CIFAR',
            depth=depth,
            stem_channels=16,
            base_channels=16,
            out_indices=(0, 1, 2, 3)))
    assert type(net).__module__.startswith('mmpretrain.')
    assert net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1)
    assert not hasattr(net, 'maxpool') and not net.norm_eval
    outs = net(torch.zeros(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, c, 32 // 2**i, 32 // 2**i)
                                              for i, c in enumerate(channels)]
    with pytest.raises(AssertionError, match='deep_stem'):
        build(dict(type='ResNet_CIFAR', depth=18, deep_stem=True))


def test_classifier_loss_predict_tensor():
    model = classifier()
    x = torch.rand(4, 3, 32, 32)
    losses = model(x, samples([0, 1, 2, 3]), mode='loss')
    assert set(losses) == {'loss', 'accuracy_top-1', 'accuracy_top-2'}
    assert losses[
        'loss'].requires_grad and 0 <= losses['accuracy_top-2'][0] <= 100
    losses['loss'].backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        logits = model(x, mode='tensor')
        preds = model(x, samples([0, 1, 2, 3]), mode='predict')
        bare = model(x, mode='predict')
    assert logits.shape == (4, 5)
    for p, q, row in zip(preds, bare, logits):
        assert torch.allclose(p.pred_score, F.softmax(
            row, 0)) and p.pred_score.shape == (5, )
        assert p.pred_label.tolist() == [int(row.argmax())] and 'gt_label' in p
        assert torch.equal(q.pred_label, p.pred_label) and 'gt_label' not in q
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(x, mode='features')
    headless = build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet_CIFAR',
                depth=18,
                base_channels=8,
                out_indices=(0, 1, 2, 3))))
    assert len(headless(x, mode='tensor')) == 4


def test_label_smoothing_and_cross_entropy():
    logits, target = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 0, 1])
    smooth = build(
        dict(
            type='LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original',
            loss_weight=2.0))
    soft = torch.full((6, 4), 0.1 / 4).scatter_(1, target[:, None],
                                                0.9 + 0.1 / 4)
    expected = -(soft * F.log_softmax(logits, 1)).sum(1).mean() * 2.0
    assert torch.allclose(
        smooth(logits, target, avg_factor=6), expected, atol=1e-6)
    ce = build(dict(type='CrossEntropyLoss', loss_weight=1.0))
    assert torch.allclose(
        ce(logits, target, avg_factor=6), F.cross_entropy(logits, target))


def test_data_preprocessor_normalises_and_swaps_channels():
    pre = build(
        dict(
            type='ClsDataPreprocessor',
            num_classes=3,
            mean=[1, 2, 3],
            std=[2, 2, 2],
            to_rgb=True))
    img = torch.stack(
        [torch.full((4, 4), v, dtype=torch.uint8) for v in (10, 20, 30)])
    out = pre(
        dict(inputs=[img, img], data_samples=samples([1, 2])), training=True)
    assert out['inputs'].shape == (2, 3, 4, 4) and pre.num_classes == 3
    assert out['inputs'][0, :, 0, 0].tolist() == [(30 - 1) / 2, (20 - 2) / 2,
                                                  (10 - 3) / 2]
    assert [s.gt_label.item() for s in out['data_samples']] == [1, 2]


@pytest.mark.parametrize('name', [
    'muse_resnet18_8xb16_cifar100.py', 'muse-online_resnet18_8xb16_cifar100.py'
])
def test_top_level_data_preprocessor_reaches_the_wrapped_classifier(name):
    """mmpretrain configs keep ``data_preprocessor`` beside ``model``; the
    Runner hands it to the distiller, which must normalise the batches exactly
    as the plain classifier would."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    assert 'data_preprocessor' not in cfg.model and cfg.data_preprocessor.mean
    model = build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    plain = build(
        dict(
            Config.fromfile(osp.join(CONFIGS,
                                     'resnet18_8xb16_cifar100.py')).model,
            data_preprocessor=cfg.data_preprocessor))
    assert model.data_preprocessor is model.architecture.data_preprocessor
    img = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    batch = dict(inputs=[img], data_samples=samples([3]))
    ours = model.data_preprocessor(batch, False)['inputs']
    assert torch.equal(ours, plain.data_preprocessor(batch, False)['inputs'])
    mean = torch.tensor(cfg.data_preprocessor.mean).view(3, 1, 1)
    std = torch.tensor(cfg.data_preprocessor.std).view(3, 1, 1)
    assert torch.allclose(ours[0], (img.float() - mean) / std)


@pytest.mark.parametrize('backbone,channels,features', [
    (dict(type='MobileNetV2',
          out_indices=(7, )), 1280, ['backbone.layer3', 'backbone.conv2']),
    (dict(type='RegNet', arch='regnetx_400mf',
          out_indices=(3, )), 384, ['backbone.layer2', 'backbone.layer4']),
    (dict(
        type='ResNeXt',
        depth=50,
        groups=32,
        width_per_group=4,
        out_indices=(3, )), 2048, ['backbone.layer2', 'backbone.layer4']),
])
def test_mmpretrain_backbones_classify_under_a_distiller(
        backbone, channels, features):
    model = build(
        dict(
            type='MUSESelfDistiller',
            architecture=dict(
                type='ImageClassifier',
                backbone=backbone,
                neck=dict(type='GlobalAveragePooling'),
                head=dict(
                    type='LinearClsHead', num_classes=3,
                    in_channels=channels)),
            features=features,
            loss=dict(type='l2', pool=True),
            probe_input_shape=(3, 32, 32)))
    losses = model(torch.rand(2, 3, 32, 32), samples([0, 2]), mode='loss')
    assert {'loss_cls', 'loss_l2'} <= set(losses)
    assert all(
        torch.isfinite(v) for k, v in losses.items() if k.startswith('loss'))


def test_self_distiller_wraps_a_classifier():
    model = build(
        dict(
            type='MUSESelfDistiller',
            architecture=classifier(),
            features=['backbone.layer1', 'backbone.layer2', 'backbone.layer4'],
            loss=dict(type='MUSELoss', pool=True),
            probe_input_shape=(3, 32, 32)))
    x = torch.rand(8, 3, 32, 32)
    losses = model(x, samples(list(range(5)) + [0, 1, 2]), mode='loss')
    # mmpretrain's head calls its loss `loss`, mmengine's name of the total:
    # logged as loss_cls
    assert {
        'loss_cls', 'loss_muse', 'mi/backbone.layer1--backbone.layer4',
        'entropy/backbone.layer2'
    } <= set(losses) and 'loss' not in losses
    model.eval()
    with torch.no_grad():
        assert model(x, mode='tensor').shape == (8, 5)
        assert model(x, mode='predict')[0].pred_score.shape == (5, )


@pytest.mark.parametrize('share', [None, False])
def test_pairs_taught_by_one_target_share_its_adapter(share):
    """MUSE's default: layer1..layer3, all taught by layer4, train one layer4
    adapter, registered once (by the distiller: one entry in the state dict
    and in the optimiser's parameter groups, also with paramwise options);
    ``share_target_adapter=False`` keeps one per pair. The student adapters
    and critics stay per pair."""
    from mmengine.optim import build_optim_wrapper
    loss = dict(type='MUSELoss', grid=2, num_samples=4)
    if share is not None:
        loss['share_target_adapter'] = share

    def distiller():
        return build(
            dict(
                type='MUSESelfDistiller',
                architecture=classifier(),
                features=[f'backbone.layer{i}' for i in range(1, 5)],
                loss=loss,
                probe_input_shape=(3, 32, 32)))

    model = distiller()
    pairs = model.pair_losses
    adapters = {id(p.target_adapter) for p in pairs}
    assert len(adapters) == (3 if share is False else 1)
    assert len(model.target_adapters) == (0 if share is False else 1)
    assert len({id(p.student_adapter) for p in pairs}) == 3
    assert len({id(p.critic) for p in pairs}) == 3
    unique = {id(p) for p in model.parameters()}
    assert len(unique) == len(list(model.parameters()))
    wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
            paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0)))
    in_groups = [
        id(p) for g in wrapper.optimizer.param_groups for p in g['params']
    ]
    assert sorted(in_groups) == sorted(unique)
    losses = model(
        torch.rand(8, 3, 32, 32), samples([0, 1, 2, 3] * 2), mode='loss')
    losses['loss_muse'].backward()
    assert all(p.grad is not None
               for p in pairs[2].target_adapter.parameters())
    state = model.state_dict()
    shared_keys = [k for k in state if 'target_adapter' in k]
    if share is False:
        assert 'pair_losses.2.target_adapter.0.weight' in state
    else:
        assert all(k.startswith('target_adapters.0.') for k in shared_keys)
        assert len(shared_keys) == len(pairs[0].target_adapter.state_dict())
    # a checkpoint round trip keeps the structure and the weights
    again = distiller()
    again.load_state_dict(state)
    assert len({id(p.target_adapter)
                for p in again.pair_losses}) == len(adapters)
    assert torch.equal(again.pair_losses[2].target_adapter[0].weight,
                       pairs[2].target_adapter[0].weight)


def test_sharing_removes_two_of_three_target_adapters():
    """The parameter count: per-pair minus shared = two target adapters."""
    counts = {}
    for share in (True, False):
        model = build(
            dict(
                type='MUSESelfDistiller',
                architecture=classifier(),
                features=[f'backbone.layer{i}' for i in range(1, 5)],
                loss=dict(type='MUSELoss', share_target_adapter=share),
                probe_input_shape=(3, 32, 32)))
        counts[share] = (
            sum(p.numel() for p in model.parameters()),
            sum(p.numel()
                for p in model.pair_losses[0].target_adapter.parameters()))
    assert counts[False][0] - counts[True][0] == 2 * counts[True][1] > 0
