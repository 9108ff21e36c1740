# The same pairs, sampling and schedule as MUSE's Faster R-CNN config, with the
# 'vid' discrepancy instead: switching the loss type is the whole change.
_base_ = '../muse_faster-rcnn_r50_fpn_1x_coco.py'

model = dict(loss=dict(type='vid'))
