# MUSE self-distillation (additive) on ResNet-18 / CIFAR-100: layer1..layer3 are each taught
# by layer4 through pooled (one vector per image) mutual information + self-information.
_base_ = './resnet18_8xb16_cifar100.py'

model = dict(
    _delete_=True, type='MUSESelfDistiller', architecture=_base_.model,
    features=['backbone.layer1', 'backbone.layer2', 'backbone.layer3', 'backbone.layer4'],
    loss=dict(type='MUSELoss', variant='additive', pool=True),
    probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
