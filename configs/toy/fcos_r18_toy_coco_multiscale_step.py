# Plain FCOS on the multi-scale toy set with a step schedule: the method
# benchmark's det-step task. det-long's model, data and 12000 iterations,
# with the learning rate cut x0.1 at 60 % and 80 % of the schedule instead
# of the cosine decay, so the last 20 % trains at 1 % of the peak rate and
# the curve flattens there (the benchmark's convergence check;
# docs/benchmarks.md).
#
#   python tools/misc/make_toy_coco.py --variant multiscale
#   python tools/train.py configs/toy/fcos_r18_toy_coco_multiscale_step.py
_base_ = './fcos_r18_toy_coco_multiscale_long.py'

max_iters = _base_.max_iters
param_scheduler = [
    _base_.param_scheduler[0],  # the linear warm-up
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[max_iters * 3 // 5, max_iters * 4 // 5],
        gamma=0.1)
]
