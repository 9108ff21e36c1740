# The toy classifier on the hard toy set (small shapes among distractors of
# nearly their size), trained to convergence with a step schedule (x0.1 at
# 60 % and 80 %): the set on which the plain model stays clearly below the
# ceiling, so a gain there is a gain in the end result, not in the speed of
# learning (docs/benchmarks.md).
#
#   python tools/misc/make_toy_cifar.py --variant hard \
#       --out data/toy_cifar100_hard
#   python tools/train.py configs/classification/toy/resnet18_toy_cifar_hard.py
_base_ = './resnet18_toy_cifar.py'

max_iters = 8000
data_root = 'data/toy_cifar100_hard'

train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=200),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[max_iters * 3 // 5, max_iters * 4 // 5],
        gamma=0.1)
]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=max_iters))
