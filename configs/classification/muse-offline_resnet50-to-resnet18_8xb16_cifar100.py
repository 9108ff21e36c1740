# Offline MUSE on CIFAR-100: a trained ResNet-50 (frozen) teaches a
# ResNet-18, stage by stage (layer1..layer4 of the student, each with the
# teacher's stage of the same resolution): the self-distillation config with
# a teacher. Train the teacher first (mmpretrain's own config), then this:
#   python tools/train.py mmpretrain::resnet/resnet50_8xb16_cifar100.py
#   python tools/train.py \
#   configs/classification/muse-offline_resnet50-to-resnet18_8xb16_cifar100.py
_base_ = './muse_resnet18_8xb16_cifar100.py'
# yapf: disable
resnet50 = dict(_base_.resnet18,
                backbone=dict(_base_.resnet18.backbone, depth=50),
                head=dict(_base_.resnet18.head, in_channels=2048))
model = dict(type='MUSEOfflineDistiller', teacher=resnet50,
             teacher_ckpt='work_dirs/resnet50_8xb16_cifar100/epoch_200.pth')
