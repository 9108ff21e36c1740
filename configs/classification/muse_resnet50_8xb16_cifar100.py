# MUSE self-distillation (multiplicative) on ResNet-50 / CIFAR-100:
# the ResNet-18 recipe (layer1..3 taught by layer4) on
# mmpretrain's resnet50_8xb16_cifar100.py.
# with_cp: the student side of each pair is recomputed in backward, the
# same loss and gradients for less memory (docs/method.md, "Cost").
_base_ = 'mmpretrain::resnet/resnet50_8xb16_cifar100.py'
# yapf: disable
custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
model = dict(
    _delete_=True, type='MUSESelfDistiller', architecture=_base_.model,
    features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
    loss=dict(type='MUSELoss', variant='multiplicative', with_cp=True,
              mi_estimator='infonce', pool=False, grid=4, num_samples=16),
    probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
