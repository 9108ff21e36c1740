# 200 epochs of SGD for a total batch of 128 (8 GPUs x 16), mmpretrain's CIFAR-100 schedule.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[60, 120, 160], gamma=0.2)

train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# The lr above is for a total batch of 128; `tools/train.py --auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=128)
