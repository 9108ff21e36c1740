# Online MUSE: two RetinaNet R50-FPN peers trained together, each backbone
# stage of one peer informative about the same stage of the other (both
# directions).
# Validation reports peer 0 (coco/bbox_mAP: exported, used by tools/test.py),
# peer 1 (peer1/coco/...) and their ensemble (ensemble/coco/...: both peers'
# boxes pooled, then NMS). `model.eval_peer=1` swaps the peers.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
# weights-only loading, atomic checkpoints
runner_type = 'MUSESafeCheckpointRunner'
# yapf: disable
model = dict(
    _delete_=True,
    type='MUSEOnlineDistiller',
    peers=[_base_.model, _base_.model],
    features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
    # a target adapter per pair, as the detection rows were measured
    # (sharing one was measured on classification: docs/method.md)
    loss=dict(type='MUSELoss', variant='multiplicative', num_samples=256,
              share_target_adapter=False),
    eval_all_peers=True)
# MUSE at full weight from the first iteration: no warm-up measured better
# than a warm-up (docs/method.md); the hook logs the weight and stops a
# diverged run
custom_hooks = [dict(type='MUSEHook')]
val_evaluator = dict(
    _delete_=True, type='MUSEPeerEnsembleMetric', metric=_base_.val_evaluator)
test_evaluator = val_evaluator
