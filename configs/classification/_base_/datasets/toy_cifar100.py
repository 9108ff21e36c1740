# The toy CIFAR-100-format set (10 classes of coloured shapes/textures, 32 px), 32 per batch,
# loaded in the main process (2-core CPU machines). Make it first:
#   python tools/misc/make_toy_cifar.py          # -> data/toy_cifar100/cifar-100-python/
_base_ = './cifar100_bs16.py'

data_root = 'data/toy_cifar100'
data_preprocessor = dict(num_classes=10)
train_dataloader = dict(batch_size=32, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root))
val_dataloader = dict(batch_size=32, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
