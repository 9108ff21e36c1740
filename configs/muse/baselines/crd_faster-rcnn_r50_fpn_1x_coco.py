# The same pairs, sampling and schedule as MUSE's Faster R-CNN config, with the
# 'crd' discrepancy instead: the loss dict is the whole change.
_base_ = '../muse_faster-rcnn_r50_fpn_1x_coco.py'

# _delete_: the loss dict replaces MUSE's (a loss rejects options it does not
# take); the sampling is MUSE's
model = dict(
    loss=dict(
        _delete_=True, type='crd', num_samples=256,
        share_target_adapter=False))
