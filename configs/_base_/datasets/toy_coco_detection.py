# Toy COCO (easy variant): 3 classes of coloured shapes, 256 px JPEGs,
# COCO instances json.
# Generate it first with:  python tools/misc/make_toy_coco.py
# (writes data/toy_coco/)
#
# Layout: data/toy_coco/{train,val,test}/*.jpg,
# data/toy_coco/annotations/instances_{train,val,test}.json: `val` is the
# validation split (settings are chosen on it), `test` the one tools/test.py
# reports
#
# Note on overriding: mmengine evaluates the variables below when this file
# is read, so a derived config that only redefines e.g.
# `train_batch_size = 4` does NOT change `train_dataloader.batch_size`;
# override the dict field instead:
#     train_dataloader = dict(batch_size=4, num_workers=2,
#                             persistent_workers=True)
dataset_type = 'CocoDataset'
data_root = 'data/toy_coco/'
img_size = 256  # the generator's --size; images are square
classes = ('square', 'circle', 'triangle')
palette = [(220, 20, 60), (0, 160, 60), (30, 80, 230)]
metainfo = dict(classes=classes, palette=palette)
backend_args = None

train_batch_size = 8
val_batch_size = 8
# 2-core CPU machines: loading a 256 px JPEG costs ~1 ms, so the main
# process is enough.
num_workers = 0
persistent_workers = num_workers > 0

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=True),
    # LoadAnnotations after Resize: the gt boxes stay in original
    # image coordinates
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]

train_dataloader = dict(
    batch_size=train_batch_size,
    num_workers=num_workers,
    persistent_workers=persistent_workers,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=val_batch_size,
    num_workers=num_workers,
    persistent_workers=persistent_workers,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
# the test split reports results; nothing is chosen on it
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'],
        ann_file='annotations/instances_test.json',
        data_prefix=dict(img='test/')))

val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val.json',
    metric='bbox',
    format_only=False,
    backend_args=backend_args)
test_evaluator = dict(
    val_evaluator, ann_file=data_root + 'annotations/instances_test.json')
