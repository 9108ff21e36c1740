# The pretrained regime of the multi-scale toy benchmark (det-pre): the
# quarter-width FCOS-R18 of det-step, its backbone initialised from the toy
# classification pretraining (tools/misc/pretrain_toy_backbone.py) and trained
# as mmdet's COCO configs train an ImageNet backbone: stem and layer1 frozen
# (frozen_stages=1), BatchNorm statistics frozen (norm_eval=True), the step
# schedule (x0.1 at 60 % and 80 %).
#
#   python tools/misc/make_toy_coco.py --variant multiscale
#   python tools/misc/pretrain_toy_backbone.py
#   python tools/train.py \
#       configs/toy/fcos_r18_toy_coco_multiscale_pretrained.py
_base_ = './fcos_r18_toy_coco_multiscale_step.py'

pretrained = 'data/toy_pretrain/resnet18-quarter_toy-pretrain.pth'
max_iters = 6000

model = dict(
    backbone=dict(
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        init_cfg=dict(
            _delete_=True,
            type='Pretrained',
            prefix='backbone.',
            checkpoint=pretrained)))

train_cfg = dict(max_iters=max_iters, val_interval=1200)
# the step schedule's milestones at 60 % and 80 % of this run
param_scheduler = _base_.param_scheduler
param_scheduler[1].update(
    end=max_iters, milestones=[max_iters * 3 // 5, max_iters * 4 // 5])
default_hooks = dict(checkpoint=dict(interval=max_iters))
