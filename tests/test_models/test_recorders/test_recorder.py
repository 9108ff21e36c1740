"""FeatureRecorder on real mmdet modules: names, tuple outputs, in-place
guard, cleanup."""
import pytest
import torch
from torch import nn

from muse_det.models.recorders import FeatureRecorder, FeatureSpec


@pytest.fixture(scope='module')
def retinanet():
    from mmdet.registry import MODELS
    from mmengine.hub import get_config
    from mmengine.registry import init_default_scope

    import muse_det  # noqa: F401
    init_default_scope('mmdet')
    cfg = get_config('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py').model
    cfg.backbone.init_cfg = None
    model = MODELS.build(cfg)
    model.eval()
    return model


def test_parse_names():
    assert FeatureSpec.parse('neck[2]') == FeatureSpec('neck[2]', 'neck',
                                                       (2, ))
    assert FeatureSpec.parse('backbone.layer1.0.conv1').indices == ()
    assert FeatureSpec.parse('x[1][-1]').indices == (1, -1)
    assert FeatureSpec.parse('bbox_head.cls_convs.1@3') == FeatureSpec(
        'bbox_head.cls_convs.1@3', 'bbox_head.cls_convs.1', (), 3)
    with pytest.raises(ValueError, match='cannot parse feature name'):
        FeatureSpec.parse('neck[a]')


def test_records_module_outputs_and_tuple_levels(retinanet):
    rec = FeatureRecorder(
        retinanet,
        ['backbone.layer2', 'neck[0]', 'neck[4]', 'neck.fpn_convs.1'])
    x = torch.rand(1, 3, 128, 128)
    with rec, torch.no_grad():
        feats = retinanet.extract_feat(x)
        got = rec.get_all()
    assert got['backbone.layer2'].shape == (1, 128, 16, 16)
    assert got['neck[0]'] is feats[0] and got['neck[4]'] is feats[4]
    assert torch.equal(got['neck.fpn_convs.1'], feats[1])


def test_unknown_module_lists_closest_names(retinanet):
    with pytest.raises(ValueError) as err:
        FeatureRecorder(retinanet, ['neck.fpn_conv.0'])
    msg = str(err.value)
    assert "unknown feature 'neck.fpn_conv.0'" in msg
    assert 'neck.fpn_convs.0' in msg.split(
        'Closest valid module names:')[1].split(',')[0]


def test_index_errors_are_explained(retinanet):
    x = torch.rand(1, 3, 64, 64)
    rec = FeatureRecorder(retinanet, ['neck[7]', 'backbone.layer1[0]', 'neck'])
    with rec, torch.no_grad():
        retinanet.extract_feat(x)
        with pytest.raises(
                ValueError, match=r'index \[7\] is out of range.*5 elements'):
            rec.get('neck[7]')
        with pytest.raises(
                ValueError, match=r'not a tuple/list; drop the \[0\] index'):
            rec.get('backbone.layer1[0]')
        with pytest.raises(
                ValueError, match=r'pick one with an index, e.g. "neck\[0\]"'):
            rec.get('neck')


def test_module_that_did_not_run_or_ran_twice(retinanet):
    x = torch.rand(1, 3, 64, 64)
    rec = FeatureRecorder(retinanet,
                          ['bbox_head.retina_cls', 'backbone.layer4'])
    with rec, torch.no_grad():
        retinanet.extract_feat(x)
        with pytest.raises(RuntimeError, match='did not run in this forward'):
            rec.get('bbox_head.retina_cls')
    with rec, torch.no_grad():
        # the head's convs are shared across the 5 FPN levels
        retinanet._forward(x)
        with pytest.raises(
                RuntimeError,
                match='ran 5 times in one forward'
                r'.*Pick a call with @k \(k = 0..4\)'):
            rec.get('bbox_head.retina_cls')


def test_call_index_picks_one_run_of_a_shared_module(retinanet):
    """``@k``: the k-th call of a module shared across FPN levels -- the
    head's tower conv on level k, the same map the head computes there."""
    x = torch.rand(1, 3, 128, 128)
    names = [f'bbox_head.cls_convs.3@{k}' for k in (0, 4)]
    rec = FeatureRecorder(retinanet, names + ['bbox_head.cls_convs.3@5'])
    with torch.no_grad():
        feats = retinanet.extract_feat(x)
    with rec, torch.no_grad():
        retinanet._forward(x)
        got = {n: rec.get(n) for n in names}
        with pytest.raises(RuntimeError, match='has no call @5; use @0..@4'):
            rec.get('bbox_head.cls_convs.3@5')
        head = retinanet.bbox_head
        for k, name in zip((0, 4), names):
            tower = feats[k]
            for conv in head.cls_convs:
                tower = conv(tower)
            assert torch.equal(got[name], tower)
        assert got[names[1]].shape[-1] == 1  # P7 of a 128 px input


def test_in_place_modification_is_detected_or_cloned():
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU(inplace=True))
    x = torch.randn(2, 3, 4, 4)
    with FeatureRecorder(net, ['0']) as rec:
        net(x)
        with pytest.raises(
                RuntimeError, match='modified in place after it was recorded'):
            rec.get('0')
    with FeatureRecorder(net, ['0'], clone=True) as rec:
        out = net(x)
        pre_relu = rec.get('0')
        assert (pre_relu < 0).any() and torch.equal(pre_relu.clamp(min=0), out)


def test_hooks_removed_and_buffers_cleared(retinanet):
    rec = FeatureRecorder(retinanet, ['neck[0]', 'backbone.layer3'])
    x = torch.rand(1, 3, 64, 64)
    with rec, torch.no_grad():
        retinanet.extract_feat(x)
        assert rec._outputs
    assert not rec._outputs and not rec._captured
    assert all(not m._forward_hooks for m in retinanet.modules())
    with pytest.raises(Exception):
        rec.get('neck[0]')
    # an exception inside the block still removes the hooks
    with pytest.raises(ZeroDivisionError):
        with rec:
            1 / 0
    assert all(not m._forward_hooks for m in retinanet.modules())
