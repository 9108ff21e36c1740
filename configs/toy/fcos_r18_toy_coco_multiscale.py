# Plain FCOS on the multi-scale toy set: the method benchmark's detection
# task. Objects of 8-96 px in 160 px images, so every FPN level has objects
# to detect; a half-width ResNet-18 (base_channels=32) from scratch, batch 4,
# 3000 iterations (about 4 minutes on 2 CPU cores). Measured bbox mAP after
# 600/1200/1800/2400/3000 iterations: 0.049/0.078/0.151/0.202/0.229 -- still
# rising by 2.7 points over the last 20 %, and 0.481 after 6000 (learning
# curve and the schedules tried in docs/benchmarks.md).
#
#   python tools/misc/make_toy_coco.py --variant multiscale
#   python tools/train.py configs/toy/fcos_r18_toy_coco_multiscale.py
#
# Scale assignment matched to the image size: 4 FPN levels (strides 8-64;
# P6 is a 3 x 3 map at 160 px) and FCOS regress_ranges that split the
# objects' half-sizes (4-48 px) between them, instead of the COCO ranges
# (64/128/256/512 px), which would put every object on P3.
_base_ = './fcos_r18_toy_coco.py'

data_root = 'data/toy_coco_multiscale/'
img_size = 160
classes = ('square', 'circle', 'triangle', 'diamond', 'cross', 'star')
palette = [(220, 20, 60), (0, 160, 60), (30, 80, 230), (255, 160, 0),
           (150, 40, 200), (0, 190, 190)]
metainfo = dict(classes=classes, palette=palette)
num_classes = len(classes)
max_iters = 3000
val_interval = 600
warmup_iters = 200
# batch 4 learnt faster per image than batch 8 (measured: 0.151 vs 0.116
# bbox mAP after the same 7200 images)
batch_size = 4
base_lr = 2.8e-3

model = dict(
    backbone=dict(base_channels=32),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64, num_outs=4),
    bbox_head=dict(
        num_classes=num_classes,
        in_channels=64,
        feat_channels=64,
        strides=[8, 16, 32, 64],
        regress_ranges=((-1, 12), (12, 24), (24, 48), (48, 1e8)),
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=batch_size,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/instances_test.json')

train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
optim_wrapper = dict(optimizer=dict(lr=base_lr))
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
    logger=dict(interval=50), checkpoint=dict(interval=max_iters))
auto_scale_lr = dict(base_batch_size=batch_size)
