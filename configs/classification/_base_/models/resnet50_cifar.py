# ResNet-50 with the CIFAR stem (mmpretrain's resnet50_cifar.py): ResNet-18's classifier with
# a deeper backbone and a 2048-channel head input.
_base_ = './resnet18_cifar.py'

model = dict(backbone=dict(depth=50), head=dict(in_channels=2048))
