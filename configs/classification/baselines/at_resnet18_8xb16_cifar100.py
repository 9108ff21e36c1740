# The pairs, adapters and schedule of MUSE's ResNet-18 CIFAR-100 config
# (layer1..layer3 taught by layer4) with the 'at' discrepancy instead:
# switching the loss type is the whole change.
_base_ = '../muse_resnet18_8xb16_cifar100.py'

model = dict(loss=dict(type='at'))
