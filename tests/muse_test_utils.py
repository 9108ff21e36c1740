"""Test helpers: load tools/ scripts, and shrink shipped configs to run on the
toy COCO set."""
import copy
import importlib.util
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_tool(*args, cwd: str = ROOT) -> str:
    """Run ``python <args>`` (a tool as a user runs it); assert it
    succeeds; its output."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          capture_output=True,
                          text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def load_tool(relpath: str):
    """Import a script under tools/ as a module (tools are not a package)."""
    path = osp.join(ROOT, relpath)
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TOY_DATA_OVERRIDES = """
data_root = '{root}/'
train_dataloader = dict(
    batch_size=2, dataset=dict(data_root=data_root, indices=4))
val_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
test_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/instances_test.json')
"""


def toy_config_text(config: str, data_root: str, extra: str = '') -> str:
    """A config file inheriting ``config`` (a repository path) with its data on
    the toy COCO set at ``data_root`` (4 training images, batch 2), plus
    ``extra`` lines."""
    return (f"_base_ = '{osp.join(ROOT, config)}'\n" +
            TOY_DATA_OVERRIDES.format(root=data_root) + extra)


def toy_data_cfg(data_root: str,
                 with_mask: bool = False,
                 num_train: int = 4,
                 batch_size: int = 2):
    """Dataloaders/evaluators of configs/_base_/datasets/toy_coco_detection.py
    on data_root."""
    from mmengine.config import Config
    base = Config.fromfile(
        osp.join(ROOT, 'configs/_base_/datasets/toy_coco_detection.py'))
    root = data_root.rstrip('/') + '/'
    out = {}
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = copy.deepcopy(base[split])
        dl.dataset.data_root = root
        dl.batch_size = batch_size
        if split == 'train_dataloader':
            dl.dataset.indices = num_train
            dl.sampler.shuffle = False
        if with_mask:
            for t in dl.dataset.pipeline:
                if t['type'] == 'LoadAnnotations':
                    t['with_mask'] = True
        out[split] = dl
    metric = ['bbox', 'segm'] if with_mask else 'bbox'
    for split in ('val_evaluator', 'test_evaluator'):
        ev = copy.deepcopy(base[split])
        # each loader's own split: val_dataloader reads val/, test_dataloader
        # test/
        ev.ann_file = root + f'annotations/instances_{split[:-10]}.json'
        ev.metric = metric
        out[split] = ev
    return out


def shrink_detector(arch: dict, num_classes: int = 3) -> None:
    """ResNet-18, no pretrained weights, `num_classes` classes: real detectors,
    CPU-test sized."""
    bb = arch['backbone']
    if bb.get('type') == 'ResNet':
        bb.update(
            depth=18,
            init_cfg=None,
            style='pytorch',
            frozen_stages=-1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False)
        arch['neck']['in_channels'] = [64, 128, 256, 512]
    if 'data_preprocessor' in arch:
        arch['data_preprocessor'].update(
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True)

    def set_classes(node):
        if isinstance(node, dict):
            if 'num_classes' in node:
                node['num_classes'] = num_classes
            # an untrained detector scores below the default 0.05
            if 'score_thr' in node:
                node['score_thr'] = 0.0
            for v in node.values():
                set_classes(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                set_classes(v)

    set_classes(arch)


def networks(model_cfg) -> list:
    """The detector configs inside a (distiller) model config."""
    if 'peers' in model_cfg:
        return list(model_cfg['peers'])
    nets = [model_cfg.get('architecture', model_cfg)]
    if 'teacher' in model_cfg:
        nets.append(model_cfg['teacher'])
    return nets


def toy_run_cfg(config_path: str,
                data_root: str,
                work_dir: str,
                max_epochs: int = 1,
                with_mask: bool = False,
                **overrides):
    """A shipped detection config, shrunk to one short epoch on the toy
    set in work_dir."""
    from mmengine.config import Config

    import muse_det  # noqa: F401
    cfg = Config.fromfile(config_path)
    for net in networks(cfg.model):
        shrink_detector(net)
    cfg.merge_from_dict(toy_data_cfg(data_root, with_mask=with_mask))
    cfg.train_cfg = dict(
        type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
    cfg.param_scheduler = []
    cfg.optim_wrapper = dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.001, momentum=0.9),
        clip_grad=dict(max_norm=10, norm_type=2))
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.pop('visualization', None)
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', []) if h['type'] == 'MUSEHook'
    ]
    cfg.work_dir = work_dir
    # mmdet names its visualizer 'visualizer'; mmengine reuses an instance
    # of the same name, which would send a second runner's scalars to the
    # first one's work_dir.
    cfg.visualizer.name = f'visualizer_{work_dir}'
    cfg.randomness = dict(seed=0, deterministic=False)
    cfg.env_cfg = dict(
        cudnn_benchmark=False,
        mp_cfg=dict(mp_start_method='fork'),
        dist_cfg=dict(backend='gloo'))
    cfg.merge_from_dict(overrides)
    return cfg


def wait_for_ranks(procs,
                   logs,
                   ready: str,
                   stall: float = 300.0,
                   limit: float = 1800.0,
                   poll: float = 0.5) -> None:
    """Wait for launched ranks by their progress, not a fixed time.

    A rank whose log does not yet hold ``ready`` is still starting (a busy
    machine can take minutes to import torch) and is waited for; once every
    live rank has printed it, the ranks must keep writing to their logs or
    exit within ``stall`` seconds. ``limit`` bounds the whole wait. Past
    either bound every live rank is asked for its Python stack (SIGUSR1: the
    ranks register ``faulthandler`` on it) and killed, and the assertion
    shows each rank's state, exit code and log.

    Args:
        procs (list[subprocess.Popen]): the ranks, in rank order.
        logs (list[pathlib.Path]): each rank's stdout+stderr file.
        ready (str): the line a rank prints once past its start-up.
        stall (float): seconds without progress that count as hung.
        limit (float): seconds the whole wait may take.
        poll (float): seconds between looks.
    """
    import signal
    import time

    def sizes():
        return [log.stat().st_size if log.exists() else 0 for log in logs]

    start = last_change = time.monotonic()
    seen = sizes()
    reason = None
    while any(p.poll() is None for p in procs):
        time.sleep(poll)
        now = time.monotonic()
        current = sizes()
        if current != seen:
            seen, last_change = current, now
        starting = any(p.poll() is None and ready not in (log.read_text(
            errors='replace') if log.exists() else '')
                       for p, log in zip(procs, logs))
        if now - start > limit:
            reason = f'not done after {limit:.0f} s'
        elif not starting and now - last_change > stall:
            reason = f'no progress for {stall:.0f} s'
        if reason:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGUSR1)
            time.sleep(2)
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            break
    report = '\n'.join(
        f'--- rank {rank}: exit {p.returncode}\n' +
        (log.read_text(errors='replace')[-3000:] if log.exists() else '')
        for rank, (p, log) in enumerate(zip(procs, logs)))
    assert reason is None and all(
        p.returncode == 0
        for p in procs), (f'{reason or "a rank failed"}\n{report}')
