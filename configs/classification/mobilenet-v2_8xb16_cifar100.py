# mmpretrain's MobileNetV2 on CIFAR-100 from scratch, 8 GPUs x 16 images, 200
# epochs, with the schedule of mmpretrain's resnet50_8xb16_cifar100.py: the
# light family. (ImageNet strides, so 32 px inputs end at 1x1; accuracy is
# below the ResNets'.)
_base_ = [
    'mmpretrain::_base_/models/mobilenet_v2_1x.py',
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=100))
optim_wrapper = dict(optimizer=dict(weight_decay=0.0005))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[60, 120, 160], gamma=0.2)
