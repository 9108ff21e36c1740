# MUSE self-distillation (multiplicative) on ResNet-50 / ImageNet-1k
# (mmpretrain's resnet50_8xb32_in1k.py, data under data/imagenet as mmpretrain
# expects):
# layer1..layer3 taught by layer4 at every location of layer4's 7x7 grid
# (224 px inputs), as the CIFAR recipe samples every location of its 4x4 grid.
# Not measured here (no ImageNet run on this budget).
# with_cp: the student side of each pair is recomputed in backward, the
# same loss and gradients for less memory (docs/method.md, "Cost").
_base_ = 'mmpretrain::resnet/resnet50_8xb32_in1k.py'
# yapf: disable
custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
model = dict(
    _delete_=True, type='MUSESelfDistiller', architecture=_base_.model,
    features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
    loss=dict(type='MUSELoss', variant='multiplicative', with_cp=True,
              mi_estimator='infonce', pool=False, grid=7, num_samples=49),
    probe_input_shape=(3, 224, 224))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
