# Toy COCO (hard variant): 6 classes of randomly coloured shapes (small
# objects, occlusion, clutter), 256 px JPEGs, COCO instances json. Generate it
# first with: python tools/misc/make_toy_coco.py --variant hard
#
# Layout: data/toy_coco_hard/{train,val,test}/*.jpg,
#         data/toy_coco_hard/annotations/instances_{train,val,test}.json
# Everything else (pipelines, batch sizes, evaluator) is the easy variant's.
_base_ = './toy_coco_detection.py'

data_root = 'data/toy_coco_hard/'
classes = ('square', 'circle', 'triangle', 'diamond', 'cross', 'star')
palette = [(220, 20, 60), (0, 160, 60), (30, 80, 230), (255, 160, 0),
           (150, 40, 200), (0, 190, 190)]
metainfo = dict(classes=classes, palette=palette)

train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/instances_test.json')
