# Plain FCOS on the multi-scale toy set, trained towards convergence: the
# method benchmark's det-long task. The multi-scale recipe with a
# quarter-width ResNet-18 (base_channels=16, FPN and head 32 wide), which
# costs half the time per step, and 4 x the iterations (12000, batch 4, the
# same AdamW and cosine decay). Learning curves: docs/benchmarks.md.
#
#   python tools/misc/make_toy_coco.py --variant multiscale
#   python tools/train.py configs/toy/fcos_r18_toy_coco_multiscale_long.py
_base_ = './fcos_r18_toy_coco_multiscale.py'

max_iters = 12000
warmup_iters = _base_.warmup_iters

model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    bbox_head=dict(
        in_channels=32,
        feat_channels=32,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)))

train_cfg = dict(max_iters=max_iters, val_interval=2400)
# the base's warm-up and cosine decay, the cosine stretched to the new end
param_scheduler = _base_.param_scheduler
param_scheduler[1].update(T_max=max_iters - warmup_iters, end=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
