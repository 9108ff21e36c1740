# The plain FCOS-R18 toy baseline on the HARD toy set: 6 classes in random
# colours (only the shape tells the class), smaller objects, occlusion and
# clutter. With the same short schedule as the easy set it stays far from
# saturation, which leaves room to show gains: measured bbox mAP 0.111 after
# 125 iterations and 0.213 (mAP_50 0.311) after 250 (easy set: 0.575 / 0.887).
#
#   python tools/misc/make_toy_coco.py --variant hard  # data/toy_coco_hard/
#   python tools/train.py configs/toy/fcos_r18_toy_coco_hard.py
#
# Dataset fields mirror configs/_base_/datasets/toy_coco_hard_detection.py (a
# config cannot take both that file and the easy dataset file as bases:
# mmengine rejects duplicate keys).
_base_ = './fcos_r18_toy_coco.py'

data_root = 'data/toy_coco_hard/'
classes = ('square', 'circle', 'triangle', 'diamond', 'cross', 'star')
palette = [(220, 20, 60), (0, 160, 60), (30, 80, 230), (255, 160, 0),
           (150, 40, 200), (0, 190, 190)]
metainfo = dict(classes=classes, palette=palette)
num_classes = len(classes)

model = dict(bbox_head=dict(num_classes=num_classes))

train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/instances_test.json')
