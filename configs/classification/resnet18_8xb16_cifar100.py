# ResNet-18 (CIFAR stem) on CIFAR-100 from scratch, 8 GPUs x 16 images, 200 epochs
# (mmpretrain's resnet18_8xb16_cifar100.py; its reported top-1 is 79.9 %).
_base_ = [
    '_base_/models/resnet18_cifar.py', '_base_/datasets/cifar100_bs16.py',
    '_base_/schedules/cifar_bs128.py', '_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=100))
