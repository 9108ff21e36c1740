# MUSE self-distillation, additive variant, on ResNet-18 / CIFAR-100.
_base_ = './muse_resnet18_8xb16_cifar100.py'

model = dict(loss=dict(variant='additive'))
