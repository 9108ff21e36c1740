# ResNet-18 (CIFAR stem) on CIFAR-100 from scratch, 8 GPUs x 16 images, 200
# epochs: mmpretrain's CIFAR-100 ResNet recipe (resnet50_8xb16_cifar100.py;
# mmpretrain ships ResNet-18 for CIFAR-10 only) at depth 18. The plain model
# the ResNet-18 MUSE configs distil.
_base_ = 'mmpretrain::resnet/resnet50_8xb16_cifar100.py'

model = dict(backbone=dict(depth=18), head=dict(in_channels=512))
