"""No host-device synchronisation in muse-det's part of a training step.

A CPU has no device to wait for, so the test models one: every tensor is a
device tensor except those the code deliberately makes on the host (factory
calls without a ``device``, e.g. the location sampler's draws on its CPU
generator) and what is computed from host tensors alone. A tensor-to-Python
conversion of a device tensor (``item``, ``bool``, ``float``, ``tolist``,
``numpy``, a copy to the CPU) or an op whose output shape depends on device
data (``nonzero``, boolean-mask indexing, ...) would stall a GPU's stream; the
test counts those whose nearest caller outside torch is muse-det's code, during
a real training step of real mmdet models.
"""
import copy
import os.path as osp
import sys
import weakref

import pytest
import torch
from muse_test_utils import ROOT, shrink_detector
from torch.overrides import TorchFunctionMode

RETINANET = osp.join(ROOT, 'configs/muse/muse_retinanet_r50_fpn_1x_coco.py')
MUSE_DIR = osp.join(ROOT, 'muse_det') + osp.sep
TORCH_DIR = osp.dirname(torch.__file__) + osp.sep
T = torch.Tensor

# Conversions of a tensor to Python / host memory: a sync when the
# tensor is on a device.
CONVERSIONS = {
    T.item, T.__bool__, T.__float__, T.__int__, T.__index__, T.tolist, T.numpy,
    T.cpu
}
# Output shapes read from device data: the host waits for the
# device to know them.
DATA_DEPENDENT = {
    torch.nonzero, T.nonzero, torch.argwhere, T.argwhere, torch.masked_select,
    T.masked_select, torch.unique, T.unique, torch.unique_consecutive,
    torch.repeat_interleave, T.repeat_interleave, torch.linalg.cholesky,
    torch.linalg.inv, torch.linalg.solve
}
INDEXING = {
    T.__getitem__, T.__setitem__, T.index_put_, T.index_put, torch.index_put
}
FACTORIES = {
    torch.tensor, torch.as_tensor, torch.arange, torch.zeros, torch.ones,
    torch.full, torch.empty, torch.rand, torch.randn, torch.randint,
    torch.randperm, torch.eye, torch.linspace
}


def _tensors(tree):
    if isinstance(tree, torch.Tensor):
        yield tree
    elif isinstance(tree, (list, tuple)):
        for x in tree:
            yield from _tensors(x)
    elif isinstance(tree, dict):
        for x in tree.values():
            yield from _tensors(x)


def _caller():
    """File and line of the nearest frame outside torch and this file."""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith(TORCH_DIR)
                                 or frame.f_code.co_filename == __file__):
        frame = frame.f_back
    return (frame.f_code.co_filename,
            frame.f_lineno) if frame is not None else ('?', 0)


class SyncCounter(TorchFunctionMode):
    """Records (file, line, op) of every would-be sync whose caller is
    under muse_det/."""

    def __init__(self):
        super().__init__()
        # id -> weakref of the tensors that live on the host by design
        self.host = {}
        self.syncs = []

    def _is_host(self, x) -> bool:
        ref = self.host.get(id(x))
        return ref is not None and ref() is x

    def _on_device(self, x) -> bool:
        return isinstance(x, torch.Tensor) and not self._is_host(x)

    def _sync_op(self, func, args, kwargs) -> bool:
        if func in CONVERSIONS:
            return self._on_device(args[0])
        if func is T.to:
            target = kwargs.get(
                'device',
                next((a
                      for a in args[1:] if isinstance(a, (str, torch.device))),
                     None))
            to_host = target is not None and torch.device(target).type == 'cpu'
            return to_host and self._on_device(args[0])
        if func in DATA_DEPENDENT:
            if func in (torch.repeat_interleave, T.repeat_interleave):
                return 'output_size' not in kwargs and any(
                    self._on_device(x) for x in _tensors(args[1:]))
            return any(self._on_device(x) for x in _tensors((args, kwargs)))
        if func in INDEXING:
            index = args[1] if len(args) > 1 else kwargs.get('indices')
            return any(x.dtype == torch.bool and self._on_device(x)
                       for x in _tensors(index))
        return False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self._sync_op(func, args, kwargs):
            where = _caller()
            if where[0].startswith(MUSE_DIR):
                self.syncs.append((osp.relpath(where[0], ROOT), where[1],
                                   getattr(func, '__name__', str(func))))
        inputs = list(_tensors((args, kwargs)))
        out = func(*args, **kwargs)
        host = (
            all(self._is_host(x) for x in inputs)
            if inputs else func in FACTORIES and kwargs.get('device') is None)
        if host:
            for x in _tensors(out):
                self.host[id(x)] = weakref.ref(x)
        return out


def _retina_distiller(loss):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(RETINANET).model
    shrink_detector(cfg.architecture)
    cfg.loss = loss
    return MODELS.build(copy.deepcopy(cfg)).train()


def _data(sizes=((128, 128), (96, 112))):
    """A data-loader batch: uint8 images, the second with padding
    (a smaller img_shape)."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8))
        s = DetDataSample(
            metainfo=dict(
                img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 16., 80., 90.]]),
            labels=torch.zeros(1, dtype=torch.long))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture(autouse=True)
def one_thread():
    """Convolutions on a shared 2-core machine: 2 threads are up to 50x
    slower than 1."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


LOSSES = {
    'muse-jsd':
    dict(type='MUSELoss', num_samples=8),
    'muse-box-weighted':
    dict(type='MUSELoss', num_samples=8, box_weight=4.0),
    'muse-dv-ema-multiplicative':
    dict(
        type='MUSELoss',
        variant='multiplicative',
        num_samples=8,
        mi_estimator=dict(type='dv', ema_momentum=0.9)),
    'crd-window':
    dict(type='CRDDistillLoss', grid=2, fine_read='window'),
    'l2':
    dict(type='L2DistillLoss', num_samples='all'),
}


@pytest.mark.parametrize('name', sorted(LOSSES))
def test_training_step_has_no_device_sync_in_muse_det(name):
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = _retina_distiller(LOSSES[name])
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    model.train_step(_data(), optim)  # first step: lazy initialisations
    with SyncCounter() as counter:
        log_vars = model.train_step(_data(), optim)
    assert counter.syncs == []
    assert model.loss_key in log_vars and torch.isfinite(
        log_vars[model.loss_key])


def test_the_counter_sees_a_sync_in_muse_det():
    """The deliberate read on a non-finite loss is one sync, and the
    counter finds it."""
    model = _retina_distiller(LOSSES['muse-jsd'])
    data = model.data_preprocessor(_data(), True)
    with SyncCounter() as counter:
        model.loss(**data)
        assert counter.syncs == []
        # all finite: reads, raises nothing
        model.raise_if_features_non_finite()
    assert [(f, op) for f, _, op in counter.syncs
            ] == [('muse_det/information/finite_watch.py', 'tolist')]
