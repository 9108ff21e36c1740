# The README demo: FCOS ResNet-18 on the toy COCO set, with MUSE
# self-distillation. Everything below _base_ is the whole change to the plain
# detector config.
_base_ = './fcos_r18_toy_coco.py'

custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
# weights-only loading, atomic checkpoints
runner_type = 'MUSESafeCheckpointRunner'
model = dict(
    _delete_=True,
    type='MUSESelfDistiller',
    architecture=_base_.model,
    # the backbone's stages; layer1..3 are taught by layer4 (the pairing the
    # ablation chose: docs/method.md)
    features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
    # a target adapter per pair, as the detection rows were measured
    # (sharing one was measured on classification: docs/method.md)
    loss=dict(
        type='MUSELoss',
        variant='multiplicative',
        num_samples=128,
        share_target_adapter=False))
custom_hooks = [dict(type='MUSEHook', warmup_iters=50)]
