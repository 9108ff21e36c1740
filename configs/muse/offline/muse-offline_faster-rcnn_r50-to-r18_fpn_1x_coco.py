# Offline MUSE: a trained Faster R-CNN R50-FPN (frozen) teaches an R18-FPN
# student, backbone stage by stage. Train the teacher first (or download
# mmdet's) and point `teacher_ckpt` at it:
#   python tools/train.py CONFIG \
#       --cfg-options model.teacher_ckpt=path/to/r50.pth
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
# weights-only loading, atomic checkpoints
runner_type = 'MUSESafeCheckpointRunner'
student = dict(
    _base_.model,
    backbone=dict(
        _base_.model.backbone,
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(_base_.model.neck, in_channels=[64, 128, 256, 512]))
# yapf: disable
model = dict(
    _delete_=True,
    type='MUSEOfflineDistiller',
    architecture=student,
    teacher=_base_.model,
    teacher_ckpt='checkpoints/faster-rcnn_r50_fpn_1x_coco.pth',
    # paired by position: student layer i taught by teacher layer i
    features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
    # a target adapter per pair, as the detection rows were measured
    # (sharing one was measured on classification: docs/method.md)
    loss=dict(type='MUSELoss', variant='multiplicative', num_samples=256,
              share_target_adapter=False))
# MUSE at full weight from the first iteration: no warm-up measured better
# than a warm-up (docs/method.md); the hook logs the weight and stops a
# diverged run
custom_hooks = [dict(type='MUSEHook')]
