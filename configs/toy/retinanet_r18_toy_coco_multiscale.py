# Plain RetinaNet (anchor-based) on the multi-scale toy set, the same
# half-width ResNet-18 + 4-level FPN, data and schedule as
# fcos_r18_toy_coco_multiscale.py. Anchors matched to the image size: 3
# scales per octave from 1.5 x the stride (12-19 px on P3 ... 96-152 px on
# P6) instead of COCO's 4 x (32-512 px), which would be larger than most
# objects here. The head's convs are GroupNorm'd like the FCOS head's: without
# it this from-scratch RetinaNet stalled on some seeds (0.0 to 17.8 bbox mAP
# x100 over 5 seeds after 3000 iterations; docs/benchmarks.md).
#
#   python tools/train.py configs/toy/retinanet_r18_toy_coco_multiscale.py
_base_ = './fcos_r18_toy_coco_multiscale.py'

model = dict(
    _delete_=True,
    type='RetinaNet',
    # the FCOS config's preprocessor, backbone and 4-level FPN
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,
    bbox_head=dict(
        type='RetinaHead',
        num_classes=6,
        in_channels=64,
        stacked_convs=2,
        feat_channels=64,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=1.5,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[8, 16, 32, 64]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0,
            ignore_iof_thr=-1),
        sampler=dict(type='PseudoSampler'),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.01,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))
