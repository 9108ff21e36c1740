# MUSE self-distillation (multiplicative) on ResNet-18 / CIFAR-100:
# layer1..layer3 are each taught by layer4 through mutual information +
# self-information. Samples are the 4x4 locations of layer4's grid (each
# shallower map averaged to it), 16 per image: N = 16 x batch samples per
# step, where one pooled vector per image gave N = batch and lowered
# accuracy (docs/method.md). Mutual information by InfoNCE, the estimator
# the classification ablation chose (docs/method.md). The network is
# mmpretrain's CIFAR-100 ResNet at depth 18 (resnet18_8xb16_cifar100.py).
# with_cp: the student side of each pair is recomputed in backward, the
# same loss and gradients for less memory (docs/method.md, "Cost").
_base_ = 'mmpretrain::resnet/resnet50_8xb16_cifar100.py'
# yapf: disable
custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
resnet18 = dict(_base_.model, backbone=dict(_base_.model.backbone, depth=18),
                head=dict(_base_.model.head, in_channels=512))
model = dict(
    _delete_=True, type='MUSESelfDistiller', architecture=resnet18,
    features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
    loss=dict(type='MUSELoss', variant='multiplicative', with_cp=True,
              mi_estimator='infonce', pool=False, grid=4, num_samples=16),
    probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
