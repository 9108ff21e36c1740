# Offline MUSE on the toy set: the trained plain toy ResNet-18 (frozen) teaches
# a fresh one, stage by stage: the toy self-distillation config with a teacher.
# Train the teacher first:
#   python tools/train.py configs/classification/toy/resnet18_toy_cifar.py
#   python tools/train.py \
#       configs/classification/toy/muse-offline_resnet18_toy_cifar.py
_base_ = './muse_resnet18_toy_cifar.py'
# yapf: disable
model = dict(type='MUSEOfflineDistiller', teacher=_base_.model.architecture,
             teacher_ckpt='work_dirs/resnet18_toy_cifar/iter_150.pth')
