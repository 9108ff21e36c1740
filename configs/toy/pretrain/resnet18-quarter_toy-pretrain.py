# Pretraining of the toy detectors' backbone, as ImageNet pretraining is for a
# COCO detector: mmpretrain image classification of 64 px crops of the
# multi-scale toy domain (19 classes: 6 shapes x 3 sizes, background; made by
# tools/misc/make_toy_pretrain.py from images of none of the detection
# splits). The backbone is the quarter-width ResNet-18 of the det-long/det-step
# FCOS (stem and base channels 16), so its weights load into
# configs/toy/fcos_r18_toy_coco_multiscale_pretrained.py with
# init_cfg=dict(type='Pretrained', prefix='backbone.', ...).
#
#   python tools/misc/pretrain_toy_backbone.py  # makes the set, trains, saves
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
# weights-only loading, atomic checkpoints
runner_type = 'MUSESafeCheckpointRunner'
data_root = 'data/toy_pretrain'
num_classes = 19
max_iters = 3000
warmup_iters = 100
base_lr = 4e-3
batch_size = 64

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))
# the detectors' normalisation (DetDataPreprocessor, bgr_to_rgb=True)
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
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
        eta_min=base_lr * 0.01,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=20)
randomness = dict(seed=0)
