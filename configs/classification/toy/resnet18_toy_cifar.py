# ResNet-18 (CIFAR stem, quarter width: 16..128 channels) from scratch on the
# toy CIFAR-100-format set: mmpretrain's CIFAR-100 ResNet config shrunk to a
# ~1-2 minute CPU run, the plain baseline of the classification demo.
# MUSEToyCIFAR100 is mmpretrain's CIFAR100 without the official files'
# checksums; it never downloads.
#
#   python tools/misc/make_toy_cifar.py  # writes data/toy_cifar100/
#   python tools/train.py configs/classification/toy/resnet18_toy_cifar.py
_base_ = 'mmpretrain::resnet/resnet50_8xb16_cifar100.py'

custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
# atomic checkpoints, safe loading (muse-det)
runner_type = 'MUSESafeCheckpointRunner'
max_iters = 150
warmup_iters = 15
base_lr = 6e-3
data_root = 'data/toy_cifar100'

model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    head=dict(num_classes=10, in_channels=128))
data_preprocessor = dict(num_classes=10)
# 32 images per batch, loaded in the main process (2-core CPU machines).
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type='MUSEToyCIFAR100', data_root=data_root))
# settings are chosen on val; test reports and chooses nothing
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type='MUSEToyCIFAR100', data_root=data_root, split='val'))
test_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type='MUSEToyCIFAR100', data_root=data_root, split='test'))
val_evaluator = dict(topk=(1, 5))
test_evaluator = val_evaluator

train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
# AdamW: from scratch in ~150 steps it learns far faster than the
# 200-epoch recipe's SGD.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=base_lr, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
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
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=10)
randomness = dict(seed=0)
# The lr above is for batch 32 on one device.
auto_scale_lr = dict(base_batch_size=32)
