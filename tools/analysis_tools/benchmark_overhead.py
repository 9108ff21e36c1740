"""Training-step cost of MUSE: a shipped MUSE config vs the same model without it.

Both models are built from the same config (same weights), trained side by side
in one process on the same synthetic batches, their steps interleaved (order
alternating every step, so drift and background load hit both alike). Reported:
median step time over --steps steps after --warmup, the time ratio MUSE /
plain, and the memory of a step with its ratio (CUDA: max allocated during the
step; CPU: weights + gradients + momentum + buffers + the activations autograd
saves for backward, counted exactly, see SavedTensorBytes).

Detectors get synthetic images with random boxes at each --sizes; classifiers
(``--task cls`` or a classification case) get random uint8 images run through
the config's own train pipeline and data preprocessor, so any classifier stack
whose config builds works. The batch size is the config's
``train_dataloader.batch_size`` unless --batch-size is given.

``--losses`` times the config's loss with one change each (the method
benchmark's names and changes: ``muse`` additive, ``muse-mul``
multiplicative, or a baseline's type), every model stepped in turn on the
same batches, so each row's ratio to the plain model is measured side by
side with the others; ``--variant NAME=JSON`` likewise times the config's
own loss with the JSON object's options replaced (e.g. a smaller
``embed_dim``). Usage::

    python tools/analysis_tools/benchmark_overhead.py                       # Faster R-CNN + RetinaNet, 320 & 800
    python tools/analysis_tools/benchmark_overhead.py --models toy-fcos toy-classifier cifar-resnet18
    python tools/analysis_tools/benchmark_overhead.py --config my_muse_cfg.py --task cls
    python tools/analysis_tools/benchmark_overhead.py --device cuda --steps 50
    python tools/analysis_tools/benchmark_overhead.py --models toy-fcos-multiscale --losses muse-mul muse l2 at nst cosine vid crd
    python tools/analysis_tools/benchmark_overhead.py --models toy-classifier --variant 'per-pair={"share_target_adapter": false}'
"""  # noqa: E501 (usage lines)
import argparse
import copy
import json
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

import muse_det  # noqa: E402,F401  (registers the distillers)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_methods import METHODS, method_loss  # noqa: E402

# the method benchmark's distilled methods
LOSSES = [m for m, change in METHODS.items() if change is not None]

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# name: (config, task, default sizes; None for classifiers: the
# pipeline's own size)
CASES = {
    'faster-rcnn':
    ('configs/muse/muse_faster-rcnn_r50_fpn_1x_coco.py', 'det', (320, 800)),
    'retinanet':
    ('configs/muse/muse_retinanet_r50_fpn_1x_coco.py', 'det', (320, 800)),
    'fcos': ('configs/muse/muse_fcos_r50-caffe_fpn_gn-head_1x_coco.py', 'det',
             (320, 800)),
    'toy-fcos': ('configs/toy/muse_fcos_r18_toy_coco_hard.py', 'det', (256, )),
    'toy-fcos-multiscale': ('configs/toy/muse_fcos_r18_toy_coco_multiscale.py',
                            'det', (160, )),
    'toy-classifier': ('configs/classification/toy/muse_resnet18_toy_cifar.py',
                       'cls', None),
    'cifar-resnet18':
    ('configs/classification/muse_resnet18_8xb16_cifar100.py', 'cls', None),
    'cifar-resnet50':
    ('configs/classification/muse_resnet50_8xb16_cifar100.py', 'cls', None),
}


class SavedTensorBytes:
    """Bytes of the distinct tensor storages autograd saves for
    backward during a block.

    On CPU, PyTorch keeps no allocator statistics and resident-set size mixes
    in allocator caching; the activations saved for backward are what a
    training step adds to memory beyond the (fixed) weights, gradients and
    optimizer state, and they are counted exactly.
    """

    def __enter__(self):
        self.nbytes, self._seen = 0, set()

        def pack(t):
            storage = t.untyped_storage()
            key = storage.data_ptr()
            if key not in self._seen:
                self._seen.add(key)
                self.nbytes += storage.nbytes()
            return t

        self._ctx = torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)


def state_bytes(model):
    """Weights + gradients + SGD momentum of the trainable parameters,
    plus buffers."""
    params = sum(p.numel() * p.element_size() for p in model.parameters()
                 if p.requires_grad)
    frozen = sum(p.numel() * p.element_size() for p in model.parameters()
                 if not p.requires_grad)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    return 3 * params + frozen + buffers


def synthetic_batch(batch_size, size, num_classes, device, seed):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch_size, 3, size, size, generator=g).to(device)
    samples = []
    for _ in range(batch_size):
        n = 4
        xy = torch.rand(n, 2, generator=g) * size * 0.6
        wh = torch.rand(n, 2, generator=g) * size * 0.3 + size * 0.05
        s = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                batch_input_shape=(size, size),
                scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], 1).to(device),
            labels=torch.randint(0, num_classes, (n, ),
                                 generator=g).to(device))
        samples.append(s)
    return inputs, samples


def synthetic_cls_batch(cfg, preprocessor, batch_size, device, seed):
    """Random uint8 images and labels through the config's train pipeline and
    the model's data preprocessor: (inputs, data_samples) as the classifier's
    ``loss`` receives them."""
    import numpy as np
    from mmengine.dataset import Compose, pseudo_collate
    dataset = cfg.train_dataloader.dataset
    pipeline = Compose(dataset.get('pipeline', []))
    rng = np.random.default_rng(seed)
    num_classes = getattr(preprocessor, 'num_classes', None) or 10
    # CIFAR: 32 x 32
    size = tuple(cfg.model.get('probe_input_shape', (3, 32, 32)))[-2:]
    results = [
        pipeline(
            dict(
                img=rng.integers(0, 256, (*size, 3), dtype=np.uint8),
                gt_label=int(rng.integers(num_classes)),
                img_shape=size,
                ori_shape=size)) for _ in range(batch_size)
    ]
    data = preprocessor(pseudo_collate(results), True)
    return data['inputs'].to(device), data['data_samples']


def build_models(config, device, losses=None, variants=None):
    """(plain model, {loss name: distiller}, config), every model with the
    same weights of the wrapped model. ``losses``: names of LOSSES, each the
    config's loss with that method's change; None: {'MUSE': the config's
    own}. ``variants``: {name: options} adds the config's own loss with those
    options replaced, one distiller each."""
    cfg = Config.fromfile(
        config if osp.isabs(config) else osp.join(ROOT, config))
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = copy.deepcopy(cfg.model)
    # what the runner does with a top-level one
    if cfg.get('data_preprocessor') is not None:
        model_cfg.architecture.setdefault('data_preprocessor',
                                          cfg.data_preprocessor)
    arch = model_cfg.architecture
    if arch.get('backbone', {}).get('init_cfg') is not None:
        # no download; speed does not depend on the weights
        arch.backbone.init_cfg = None
    torch.manual_seed(0)
    plain = MODELS.build(copy.deepcopy(arch))
    distillers = {}
    changes = {name: None for name in losses or ['MUSE']}
    changes.update(variants or {})
    for name, options in changes.items():
        one = copy.deepcopy(model_cfg)
        if losses and options is None:
            one.loss = method_loss(one.loss, name)
        if options is not None:
            one.loss = dict(one.loss, **options)
        torch.manual_seed(0)
        distiller = MODELS.build(one)
        distiller.architecture.load_state_dict(plain.state_dict())
        distiller.distill_weight_scale = 1.0
        distillers[name] = distiller.to(device).train()
    return plain.to(device).train(), distillers, cfg


def make_step(model, device):
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def step(inputs, samples):
        losses = model.loss(inputs, samples)
        loss, _ = model.parse_losses(losses)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # random weights on synthetic images: clip so neither model
        # diverges mid-benchmark
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
        opt.step()
        if device == 'cuda':
            torch.cuda.synchronize()

    return step


def measure(step, batch, device):
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        t = time.perf_counter()
        step(*batch)
        dt = time.perf_counter() - t
        return dt, torch.cuda.max_memory_allocated() - base
    with SavedTensorBytes() as mem:
        t = time.perf_counter()
        step(*batch)
        dt = time.perf_counter() - t
    return dt, mem.nbytes


def num_det_classes(arch) -> int:
    heads = [
        arch.get('bbox_head'), (arch.get('roi_head') or {}).get('bbox_head')
    ]
    return next((h['num_classes']
                 for h in heads if isinstance(h, dict) and 'num_classes' in h),
                80)


def run_case(name, config, task, size, args):
    """One row per distiller: its median step time and memory against the
    plain model's, all stepped in turn on the same batches."""
    plain, distillers, cfg = build_models(config, args.device, args.losses,
                                          args.variant)
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    num_classes = num_det_classes(
        cfg.model.architecture) if task == 'det' else None
    models = {'plain': plain, **distillers}
    steps = {k: make_step(m, args.device) for k, m in models.items()}
    times = {k: [] for k in steps}
    mems = {k: [] for k in steps}
    total = args.warmup + args.steps
    for i in range(total):
        if task == 'det':
            batch = synthetic_batch(
                batch_size, size, num_classes, args.device, seed=i)
        else:
            batch = synthetic_cls_batch(cfg, plain.data_preprocessor,
                                        batch_size, args.device, i)
            size = batch[0].shape[-1]
        # the order alternates, so drift and background load hit all alike
        order = list(steps) if i % 2 == 0 else list(steps)[::-1]
        for k in order:
            dt, mem = measure(steps[k], batch, args.device)
            if i >= args.warmup:
                times[k].append(dt)
                mems[k].append(mem)
        last = ' '.join(f'{k} {times[k][-1]:.3f}' if times[k] else f'{k} -'
                        for k in steps)
        print(
            f'[{name} {size}px] step {i + 1}/{total} {last}',
            file=sys.stderr,
            flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    peak = {k: max(v) for k, v in mems.items()}
    if args.device == 'cpu':  # activations + the model's fixed training state
        peak = {k: peak[k] + state_bytes(m) for k, m in models.items()}
    return [
        dict(
            model=name,
            loss=k,
            size=size,
            batch=batch_size,
            plain_s=med['plain'],
            muse_s=med[k],
            time_ratio=med[k] / med['plain'],
            plain_mem=peak['plain'],
            muse_mem=peak[k],
            mem_ratio=peak[k] /
            peak['plain'] if peak['plain'] > 0 else float('nan'))
        for k in distillers
    ]


def parse_variants(parser, items):
    """['name={json object}', ...] -> {name: dict}; a malformed item is a
    usage error naming it."""
    variants = {}
    for item in items:
        name, sep, text = item.partition('=')
        try:
            options = json.loads(text) if sep and name else None
        except json.JSONDecodeError as e:
            parser.error(f'--variant {item!r}: {e}')
        if not isinstance(options, dict):
            parser.error(f'--variant {item!r}: write NAME={{"option": value}}'
                         ', e.g. \'e32={"embed_dim": 32}\'')
        variants[name] = options
    return variants


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        '--models',
        nargs='+',
        default=None,
        choices=sorted(CASES),
        help='default: faster-rcnn retinanet (none when --config is given)')
    parser.add_argument(
        '--config',
        nargs='+',
        default=[],
        help='MUSE config file(s) to measure as well (see --task)')
    parser.add_argument(
        '--task',
        default='det',
        choices=['det', 'cls'],
        help='what the --config files train: detector or classifier')
    parser.add_argument(
        '--sizes',
        nargs='+',
        type=int,
        default=None,
        help='detector image sizes (default: each case\'s own)')
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='default: the config\'s train_dataloader.batch_size')
    parser.add_argument(
        '--losses',
        nargs='+',
        default=None,
        choices=LOSSES,
        help='time these losses (the method benchmark\'s changes to the '
        'config\'s loss) side by side; default: the config\'s own')
    parser.add_argument(
        '--variant',
        nargs='+',
        default=[],
        metavar='NAME=JSON',
        help='also time the config\'s loss with these options replaced, e.g. '
        '\'e32={"embed_dim": 32}\' (one row each)')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--threads', type=int, default=None, help='torch CPU threads')
    args = parser.parse_args(argv)
    args.variant = parse_variants(parser, args.variant)
    if args.steps < 1 or args.warmup < 0:
        parser.error('--steps must be >= 1 and --warmup >= 0')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device is available')
    if args.threads:
        torch.set_num_threads(args.threads)
    models = args.models if args.models is not None else \
        ([] if args.config else ['faster-rcnn', 'retinanet'])
    cases = [(m, *CASES[m]) for m in models]
    cases += [(osp.splitext(osp.basename(c))[0], c, args.task, (256, ))
              for c in args.config]
    for _, config, _, _ in cases:
        if not osp.isfile(
                config if osp.isabs(config) else osp.join(ROOT, config)):
            parser.error(f'config file not found: {config}')
    rows = [
        row for name, config, task, sizes in cases
        for size in ((args.sizes or sizes) if task == 'det' else [None])
        for row in run_case(name, config, task, size, args)
    ]
    dev = torch.cuda.get_device_name() if args.device == 'cuda' else \
        f'CPU ({torch.get_num_threads()} threads)'
    mem_kind = ('max allocated'
                if args.device == 'cuda' else 'state+activations')
    print(f'\nMUSE overhead, {dev}, median of {args.steps} steps after '
          f'{args.warmup} warm-up, torch {torch.__version__}\n')
    print('| model | size | batch | loss | plain s/step | loss s/step | '
          f'time ratio | plain {mem_kind} MiB | loss {mem_kind} MiB | '
          'memory ratio |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(
            f'| {r["model"]} | {r["size"]} | {r["batch"]} | {r["loss"]} | '
            f'{r["plain_s"]:.3f} | {r["muse_s"]:.3f} | {r["time_ratio"]:.3f} '
            f'| {r["plain_mem"] / 2**20:.0f} | {r["muse_mem"] / 2**20:.0f} | '
            f'{r["mem_ratio"]:.3f} |')
    return rows


if __name__ == '__main__':
    main()
