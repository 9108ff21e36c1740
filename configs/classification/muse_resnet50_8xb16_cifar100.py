# MUSE self-distillation (additive) on ResNet-50 / CIFAR-100: the ResNet-18 recipe (layer1..3
# taught by layer4) on resnet50_8xb16_cifar100.py's network.
_base_ = './muse_resnet18_8xb16_cifar100.py'

model = dict(architecture=dict(backbone=dict(depth=50), head=dict(in_channels=2048)))
