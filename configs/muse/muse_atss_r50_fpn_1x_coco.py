# MUSE self-distillation on mmdet's atss_r50_fpn_1x_coco.py
# Everything below _base_ is the whole change.
_base_ = 'mmdet::atss/atss_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
# weights-only loading, atomic checkpoints
runner_type = 'SafeCheckpointRunner'
model = dict(
    _delete_=True,
    type='MUSESelfDistiller',
    architecture=_base_.model,
    # every FPN level; the shallower levels are taught by the
    # last (deepest) one
    features=['neck[0]', 'neck[1]', 'neck[2]', 'neck[3]', 'neck[4]'],
    loss=dict(type='MUSELoss', variant='additive', num_samples=256))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
