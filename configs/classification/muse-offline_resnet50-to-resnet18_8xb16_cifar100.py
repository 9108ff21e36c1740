# Offline MUSE on CIFAR-100: a trained ResNet-50 (frozen) teaches a
# ResNet-18, stage by stage (layer1..layer4 of the student, each with the
# teacher's stage of the same resolution). Train the teacher first
# (mmpretrain's own config), then this:
#   python tools/train.py mmpretrain::resnet/resnet50_8xb16_cifar100.py
#   python tools/train.py \
#   configs/classification/muse-offline_resnet50-to-resnet18_8xb16_cifar100.py
_base_ = 'mmpretrain::resnet/resnet50_8xb16_cifar100.py'

custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
student = dict(
    _base_.model,
    backbone=dict(_base_.model.backbone, depth=18),
    head=dict(_base_.model.head, in_channels=512))
model = dict(
    _delete_=True,
    type='MUSEOfflineDistiller',
    architecture=student,
    teacher=_base_.model,
    teacher_ckpt='work_dirs/resnet50_8xb16_cifar100/epoch_200.pth',
    features=[
        'backbone.layer1', 'backbone.layer2', 'backbone.layer3',
        'backbone.layer4'
    ],
    loss=dict(
        type='MUSELoss',
        variant='additive',
        pool=False,
        grid=4,
        num_samples=16),
    probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
