# Runtime of the classification configs: mmpretrain's default_runtime.py, with mmdet's scope
# (one registry tree: mmdet's backbones and muse-det's classifier types resolve unprefixed).
default_scope = 'mmdet'
custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
runner_type = 'SafeCheckpointRunner'  # weights-only loading, atomic checkpoints

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends, name='visualizer')

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
