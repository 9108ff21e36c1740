# Plain FCOS with a ResNet-18 backbone trained FROM SCRATCH on the toy COCO set
# (easy variant). This is the no-distillation baseline that the README's MUSE
# demo builds on. Measured on 2 CPU cores (torch 2.13 CPU, mmdet 3.3.0): ~0.87
# s/iter, 250 iterations + 2 evaluations in ~4 min; bbox mAP 0.575 after 125
# iterations and 0.887 (mAP_50 1.000) after 250.
#
#   python tools/misc/make_toy_coco.py  # writes data/toy_coco/
#   python tools/train.py configs/toy/fcos_r18_toy_coco.py
#
# Differences from mmdet's fcos_r50-caffe_fpn_gn-head_1x_coco.py, all needed to
# train from scratch in a few hundred iterations:
# * ResNet-18 (pytorch style), no pretrained weights, nothing frozen
#   (frozen_stages=-1), trainable BN in train mode (norm_eval=False): the stock
#   frozen stem and frozen BN only make sense with ImageNet weights and stall
#   training from scratch;
# * narrower FPN / head (128 channels, 2 stacked convs) with the
#   center-sampling, norm-on-bbox, centerness-on-reg and GIoU
#   improvements of FCOS;
# * ImageNet-style RGB mean/std normalisation (bgr_to_rgb=True) instead of
#   caffe BGR means;
# * AdamW lr 2e-3 with a linear warm-up and cosine decay, iteration based;
# * score_thr 0.01 so that evaluation returns boxes early in training.
_base_ = [
    '../_base_/datasets/toy_coco_detection.py',
    'mmdet::_base_/default_runtime.py',
]

max_iters = 250
val_interval = 125
warmup_iters = 50
base_lr = 2e-3
num_classes = 3

model = dict(
    type='FCOS',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(
        type='FPN',
        in_channels=[64, 128, 256, 512],
        out_channels=128,
        start_level=1,
        add_extra_convs='on_output',  # P6/P7 from P5
        num_outs=5,
        relu_before_extra_convs=True),
    bbox_head=dict(
        type='FCOSHead',
        num_classes=num_classes,
        in_channels=128,
        stacked_convs=2,
        feat_channels=128,
        strides=[8, 16, 32, 64, 128],
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        norm_on_bbox=True,
        centerness_on_reg=True,
        center_sampling=True,
        center_sample_radius=1.5,
        conv_bias=True,
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=None,
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.01,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters - warmup_iters,
        eta_min=base_lr * 0.02,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters)
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1,
        save_last=True))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
randomness = dict(seed=0)
# The lr above is tuned for batch 8 (1 device); scale it if you change the
# total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=8)
