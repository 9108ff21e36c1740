"""The detector the distiller tests wrap: a real mmdet RetinaNet with a
ResNet-18 + FPN, three classes, no pretrained weights."""
import pytest


@pytest.fixture(scope='module')
def arch_cfg():
    from mmengine.hub import get_config

    import muse_det  # noqa: F401
    cfg = get_config('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py').model
    cfg.backbone.init_cfg = None
    cfg.bbox_head.num_classes = 3
    return cfg
