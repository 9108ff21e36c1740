"""Host memory stays flat over 300 MUSE training iterations: recorder
buffers are cleared and hooks removed every step, and nothing accumulates in
the distiller."""
import gc

import pytest
import torch

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow


def _rss_mib():
    import os
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def _tiny_distiller():
    from mmdet.registry import MODELS
    from mmengine.hub import get_config
    from mmengine.registry import init_default_scope

    import muse_det  # noqa: F401
    init_default_scope('mmdet')
    model = get_config('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py').model
    model.backbone.update(
        depth=18, base_channels=16, stem_channels=16, init_cfg=None)
    model.neck.update(in_channels=[16, 32, 64, 128], out_channels=32)
    model.bbox_head.update(
        num_classes=2, in_channels=32, feat_channels=32, stacked_convs=1)
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='MUSESelfDistiller',
            architecture=model,
            features=['neck[0]', 'neck[1]', 'neck[2]'],
            probe_input_shape=(3, 64, 64),
            loss=dict(type='MUSELoss', grid=4, num_samples=8, embed_dim=32)))


def test_host_memory_flat_over_300_iterations():
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    torch.set_num_threads(1)
    d = _tiny_distiller().train()
    opt = torch.optim.SGD(d.parameters(), lr=1e-3)
    samples = []
    for i in range(2):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(64, 64),
                ori_shape=(64, 64),
                scale_factor=(1., 1.),
                pad_shape=(64, 64),
                batch_input_shape=(64, 64)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 8., 40., 44.]]),
            labels=torch.tensor([i]))
        samples.append(s)
    rss = {}
    for it in range(1, 301):
        x = torch.rand(2, 3, 64, 64)
        loss, _ = d.parse_losses(d.loss(x, samples))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it in (50, 100, 200, 300):
            gc.collect()
            rss[it] = _rss_mib()
    growth = rss[300] - rss[50]
    print(f'RSS MiB at iterations {rss}; growth 50 -> 300: {growth:.1f} MiB')
    assert growth < 16, rss
    rec = d.recorders['architecture']
    assert not rec._outputs and not rec._captured
    assert all(not m._forward_hooks for m in d.modules())
