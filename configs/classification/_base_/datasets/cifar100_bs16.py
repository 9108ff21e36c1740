# CIFAR-100, 16 images per GPU (mmpretrain's cifar100_bs16.py). Expects the python version,
# unpacked: data/cifar100/cifar-100-python/{train,test,meta}. Nothing is downloaded.
dataset_type = 'CIFAR100'
data_root = 'data/cifar100'
# Normalisation lives in the model's data preprocessor (the runner merges this into `model`).
data_preprocessor = dict(
    type='ClsDataPreprocessor',
    num_classes=100,
    mean=[129.304, 124.070, 112.434],  # RGB
    std=[68.170, 65.392, 70.418],
    to_rgb=False)  # the dataset yields RGB already

train_pipeline = [
    dict(type='ClsRandomCrop', crop_size=32, padding=4),  # mmpretrain's RandomCrop
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
