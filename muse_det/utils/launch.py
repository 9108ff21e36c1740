"""What tools/train.py and tools/test.py share: config loading, work dirs,
distributed set-up."""
import gc
import os
import os.path as osp
import sys
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.hub import get_config
from mmengine.registry import RUNNERS

from ..errors import MissingFileError, is_muse_det_error
from .package_configs import package_config_paths

# The runner of muse-det's tools when a config names none: checkpoints read
# with torch.load(weights_only=True) (stock MMEngine checkpoints included),
# written atomically.
DEFAULT_RUNNER = 'MUSESafeCheckpointRunner'


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none',
                work_dir: Optional[str] = None):
    """Load a config (local path or ``mmdet::``/``muse_det::`` path) and apply
    CLI overrides.

    ``work_dir`` priority, as in mmdet: CLI > config > ``./work_dirs/<config
    name>``.

    Args:
        path (str): a config file, or a ``<package>::<path>`` name such as
            ``'muse_det::muse/muse_retinanet_r50_fpn_1x_coco.py'``.
        cfg_options (dict, optional): overrides merged into the config (the
            ``--cfg-options`` of the tools). Defaults to None.
        launcher (str): the job launcher, stored as ``cfg.launcher``
            (``'none'``, ``'pytorch'``, ``'slurm'``, ``'mpi'``). Defaults to
            ``'none'``.
        work_dir (str, optional): the ``--work-dir`` of the command line.
            Defaults to None.

    Returns:
        Config: the loaded config, with ``launcher`` and ``work_dir`` set.

    Raises:
        MissingFileError: a local ``path`` does not exist.
    """
    with package_config_paths():
        if '::' in path:
            cfg = get_config(path)
        else:
            if not osp.isfile(path):
                raise MissingFileError(f'config file not found: {path}')
            cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def setup_distributed(cfg) -> None:
    """Initialise the process group for ``--launcher pytorch`` on machines
    without CUDA.

    mmengine's launcher calls ``torch.cuda.set_device`` before
    ``init_process_group``, which fails on CPU; with the group already
    initialised (gloo), mmengine skips its own set-up. On CUDA machines nothing
    changes: mmengine initialises NCCL as usual.

    Args:
        cfg (Config): the run's config; on CPU with a launcher, its
            ``model_wrapper_cfg`` (``device_ids=None``) and
            ``env_cfg.dist_cfg.backend`` (``'gloo'``) are set in place.
    """
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg', None) or {}
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    env = cfg.get('env_cfg', None) or {}
    env.setdefault('dist_cfg', {})['backend'] = 'gloo'
    cfg.env_cfg = env


def enable_amp(cfg) -> None:
    """Mixed precision: fp16 with dynamic loss scaling on CUDA, bf16 autocast
    on CPU (``tools/train.py --amp``).

    Args:
        cfg (Config): the run's config; ``cfg.optim_wrapper`` becomes an
            ``AmpOptimWrapper`` (``loss_scale='dynamic'``) on CUDA, else an
            :class:`~muse_det.engine.optimizers.MUSEAutocastOptimWrapper`
            (``dtype='bfloat16'``), in place.
    """
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    else:
        cfg.optim_wrapper.type = 'MUSEAutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'


def parse_tool_args(parser, argv=None, cfg_example='train_cfg.max_iters=100'):
    """Add the options every tool shares (config overrides, launcher, local
    rank), parse.

    Also sets the environment variable ``LOCAL_RANK`` from ``--local-rank``
    unless it is set already.

    Args:
        parser (argparse.ArgumentParser): the tool's parser with its own
            options.
        argv (list[str], optional): the arguments; ``None``:
            ``sys.argv[1:]``. Defaults to None.
        cfg_example (str): the example in ``--cfg-options``' help. Defaults
            to ``'train_cfg.max_iters=100'``.

    Returns:
        argparse.Namespace: the parsed arguments, with ``cfg_options``,
        ``launcher`` and ``local_rank``.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=f'override config keys, e.g. {cfg_example}')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def run_cli(main, argv=None):
    """Run a tool's ``main``.

    muse-det's own errors (see :func:`muse_det.errors.is_muse_det_error`)
    print their one line and exit with status 1 (the full traceback with
    ``MUSE_DET_DEBUG=1``); any other exception propagates with its traceback,
    since its fix is where it was raised (a user's transform, head or hook,
    or a library). After ``main`` returns, a distributed run leaves its
    process group (:func:`leave_process_group`).

    Args:
        main (Callable): the tool's entry point, called as ``main(argv)``.
        argv (list[str], optional): passed to ``main``. Defaults to None.

    Returns:
        Any: what ``main`` returns.

    Raises:
        SystemExit: status 1, for a muse-det error.
    """
    try:
        result = main(argv)
    except Exception as e:
        if not is_muse_det_error(e) or os.environ.get('MUSE_DET_DEBUG'):
            raise
        print(
            f'error: {e}\n(set MUSE_DET_DEBUG=1 to see the full traceback)',
            file=sys.stderr)
        raise SystemExit(1)
    leave_process_group()
    return result


def leave_process_group() -> None:
    """End a distributed run with every rank together: the runner's DDP
    reducer is freed and the ranks meet at a barrier before the group is
    destroyed. A rank that exits while another is still tearing down gloo can
    abort that one (``terminate called without an active exception``), failing
    a run that trained and saved everything."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


def build_runner(cfg):
    """Build the config's runner; :data:`DEFAULT_RUNNER` if it names none.

    Args:
        cfg (Config): the run's config; ``runner_type`` is set in place when
            missing.

    Returns:
        Runner: the built runner.
    """
    if 'runner_type' not in cfg:
        cfg.runner_type = DEFAULT_RUNNER
    return RUNNERS.build(cfg)
