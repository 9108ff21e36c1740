# MUSE self-distillation (multiplicative) on MobileNetV2 / CIFAR-100: the
# stride-4, -8 and -16 stages are each taught by the last conv
# (1280 channels), through pooled vectors. MI by the default JSD: InfoNCE,
# the ResNet configs' estimator, was measured with 16 locations per image,
# not with one pooled vector (16 samples a step, InfoNCE capped at log 16).
_base_ = [
    'mmpretrain::_base_/models/mobilenet_v2_1x.py',
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]
# yapf: disable
custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
optim_wrapper = dict(optimizer=dict(weight_decay=0.0005))
param_scheduler = dict(type='MultiStepLR', by_epoch=True,
                       milestones=[60, 120, 160], gamma=0.2)
mobilenet = dict(_base_.model, head=dict(_base_.model.head, num_classes=100))
model = dict(
    _delete_=True, type='MUSESelfDistiller', architecture=mobilenet,
    features=[f'backbone.{n}' for n in 'layer2 layer3 layer5 conv2'.split()],
    loss=dict(type='MUSELoss', pool=True), probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
