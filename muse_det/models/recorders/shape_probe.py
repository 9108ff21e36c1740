"""Measure a network's features once at build time, on a zero input the network
accepts.

A distiller builds one pair loss per feature pair with the channel counts of
the features, so it runs ``extract_feat`` once on zeros. The input has to be
large enough for every layer: an SSD's extra layers end in 3x3 convolutions
without padding that need a 300 px input, a model padded to a size divisor
needs a multiple of it. Unless ``probe_input_shape`` is given, the probe starts
at the size the network's own configuration implies (:func:`probe_size`) and
doubles it while the forward fails, up to :data:`MAX_PROBE_SIZE`.
"""
import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from .feature_recorder import FeatureRecorder

# side (px) of the smallest square probe, and the largest one tried
MIN_PROBE_SIZE = 128
MAX_PROBE_SIZE = 1024


def _sizes(value) -> List[int]:
    if isinstance(value, (int, float)):
        return [int(math.ceil(value))]
    if isinstance(value, (tuple, list)):
        return [s for v in value for s in _sizes(v)]
    return []


def probe_size(net: nn.Module) -> int:
    """Side of the smallest square input the network's configuration implies.

    The largest of :data:`MIN_PROBE_SIZE`, the strides of every prior
    (anchor/point) generator and a generator's fixed ``input_size`` (SSD300:
    300), rounded up to the data preprocessor's ``pad_size_divisor``.

    Args:
        net (nn.Module): an mmdet detector or mmpretrain classifier.

    Returns:
        int: the side in pixels.
    """
    size = MIN_PROBE_SIZE
    for module in net.modules():
        for name in ('prior_generator', 'anchor_generator'):
            generator = module.__dict__.get(name)
            if generator is None:
                continue
            size = max([
                size, *_sizes(getattr(generator, 'strides', ())),
                *_sizes(getattr(generator, 'input_size', None))
            ])
    preprocessor = getattr(net, 'data_preprocessor', None)
    divisor = int(getattr(preprocessor, 'pad_size_divisor', 1) or 1)
    return -(-size // divisor) * divisor


def _input_shapes(net: nn.Module,
                  probe_input_shape: Optional[Sequence[int]]) -> list:
    if probe_input_shape is not None:
        return [tuple(probe_input_shape)]
    size, shapes = probe_size(net), []
    while not shapes or size <= MAX_PROBE_SIZE:
        shapes.append((3, size, size))
        size *= 2
    return shapes


def forward_features(net: nn.Module, recorder: FeatureRecorder,
                     inputs: torch.Tensor) -> None:
    """Run the part of ``net`` that computes the features ``recorder``
    records.

    ``extract_feat`` (backbone and neck) or, when a recorded module does not
    run there (a detection head's tower conv), the tensor-mode forward
    ``net(inputs, mode='tensor')``, which runs the heads too. Call it inside
    ``with recorder:``.

    Args:
        net (nn.Module): the network, with ``extract_feat``.
        recorder (FeatureRecorder): the active recorder of ``net``.
        inputs (Tensor): images, shape (B, C, H, W).
    """
    net.extract_feat(inputs)
    if not recorder.all_ran():
        recorder.reset()
        net(inputs, mode='tensor')


@torch.no_grad()
def run_probe(net: nn.Module,
              recorder: FeatureRecorder,
              read: Callable,
              probe_input_shape: Optional[Sequence[int]] = None):
    """Run ``net`` once on zeros inside ``recorder`` and read the result.

    The forward (:func:`forward_features`) runs on a batch of two zero images
    in eval mode without gradients, on the device of ``net``'s parameters;
    ``net``'s training mode is restored afterwards.

    Args:
        net (nn.Module): the network, with ``extract_feat``.
        recorder (FeatureRecorder): a recorder of ``net``.
        read (Callable): ``read(recorder, (C, H, W))``, called inside the
            recorder after the forward succeeded, with the shape of the
            images it ran on.
        probe_input_shape (Sequence[int], optional): ``(C, H, W)`` of the
            zero images; ``None``: ``(3, s, s)`` with ``s`` from
            :func:`probe_size`, doubled while the forward fails, up to
            :data:`MAX_PROBE_SIZE`. Defaults to None.

    Returns:
        Any: what ``read`` returns.

    Raises:
        ValueError: ``net`` has no ``extract_feat``, or the forward failed on
            every shape tried.
    """
    if not hasattr(net, 'extract_feat'):
        raise ValueError(
            f'{type(net).__name__} has no extract_feat(); muse-det measures '
            'feature shapes through it.')
    shapes = _input_shapes(net, probe_input_shape)
    device = next((p.device for p in net.parameters()), torch.device('cpu'))
    was_training, errors = net.training, []
    net.eval()
    try:
        for shape in shapes:
            with recorder:
                try:
                    forward_features(net, recorder,
                                     torch.zeros(2, *shape, device=device))
                # e.g. a kernel larger than a too small feature map
                except Exception as e:
                    errors.append(e)
                    continue
                return read(recorder, shape)
    finally:
        net.train(was_training)
    tried = ', '.join(str(s) for s in shapes)
    reason = (str(errors[0]).strip().splitlines()
              or [type(errors[0]).__name__])[0]
    raise ValueError(
        f'cannot measure the features of {type(net).__name__}: extract_feat() '
        f'fails on a zero input of shape {tried} ({type(errors[0]).__name__}: '
        f'{reason}); set probe_input_shape=(C, H, W) to an input the model '
        'accepts, e.g. its training image size.') from errors[0]


def probe_features(
    net: nn.Module,
    recorder: FeatureRecorder,
    probe_input_shape: Optional[Sequence[int]] = None
) -> Tuple[Dict[str, Tuple[int, ...]], Dict[str, Optional[float]]]:
    """Shape and stride of every feature ``recorder`` records in ``net``.

    A stride is the probe's height over the map's, exact when the probe size
    is a multiple of it (:func:`probe_size` takes the largest prior stride
    into account).

    Args:
        net (nn.Module): the network, with ``extract_feat``.
        recorder (FeatureRecorder): a recorder of ``net``.
        probe_input_shape (Sequence[int], optional): ``(C, H, W)`` of the
            zero probe images, see :func:`run_probe`. Defaults to None.

    Returns:
        tuple[dict, dict]: ``(shapes, strides)``: name -> shape without the
        batch, ``(C, H, W)`` or ``(C,)``; name -> stride in input pixels
        (float), ``None`` for a vector feature.

    Raises:
        ValueError: a feature could not be measured (see :func:`run_probe`).
    """

    def read(recorder, input_shape):
        shapes = {}
        for name in recorder.names:
            try:
                shapes[name] = tuple(recorder.get(name).shape[1:])
            except RuntimeError as e:
                raise ValueError(
                    f'cannot measure feature {name!r}: {e} muse-det records '
                    'features computed by extract_feat() (backbone and neck) '
                    'or by the tensor-mode forward (heads).') from None
        strides = {
            name: input_shape[-2] / shape[-2] if len(shape) == 3 else None
            for name, shape in shapes.items()
        }
        return shapes, strides

    return run_probe(net, recorder, read, probe_input_shape)


def feature_shapes(
    net: nn.Module,
    recorder: FeatureRecorder,
    probe_input_shape: Optional[Sequence[int]] = None
) -> Dict[str, Tuple[int, ...]]:
    """Shape of every feature ``recorder`` records in ``net``.

    Args:
        net (nn.Module): the network, with ``extract_feat``.
        recorder (FeatureRecorder): a recorder of ``net``.
        probe_input_shape (Sequence[int], optional): ``(C, H, W)`` of the
            zero probe images, see :func:`run_probe`. Defaults to None.

    Returns:
        dict[str, tuple[int]]: name -> shape without the batch, ``(C, H, W)``
        or ``(C,)``.
    """
    return probe_features(net, recorder, probe_input_shape)[0]


def backbone_stages(backbone: nn.Module) -> List[str]:
    """The stage modules of an mmdet backbone, shallow to deep.

    Read from ``res_layers`` (ResNet family, RegNet), ``layers`` (CSPDarknet,
    MobileNetV2) or a ``stages`` ``ModuleList`` (Swin...).

    Args:
        backbone (nn.Module): the backbone.

    Returns:
        list[str]: module paths relative to the backbone, e.g.
        ``['layer1', ..., 'layer4']`` or ``['stages.0', ...]``; empty when
        none of the three is found.
    """
    for attr in ('res_layers', 'layers'):
        names = backbone.__dict__.get(attr)
        if isinstance(names, (list, tuple)) and names and all(
                isinstance(n, str) for n in names):
            return [
                n for n in names
                if isinstance(getattr(backbone, n, None), nn.Module)
            ]
    stages = getattr(backbone, 'stages', None)
    if isinstance(stages, nn.ModuleList):
        return [f'stages.{i}' for i in range(len(stages))]
    return []


def default_features(
        net: nn.Module,
        probe_input_shape: Optional[Sequence[int]] = None) -> List[str]:
    """The features a distiller records when none are given.

    The backbone's stages that each run once when it has at least two
    (``backbone.layer1`` ... ``backbone.layer4`` on a ResNet), so the
    shallower stages are taught by the deepest, as in classification (why
    not the FPN levels: docs/method.md, "Which features teach which").
    Without stages: every output of the neck when it has several (FPN levels),
    else every output of the backbone.

    Args:
        net (nn.Module): the network, with ``extract_feat`` and a
            ``backbone`` and/or ``neck``.
        probe_input_shape (Sequence[int], optional): ``(C, H, W)`` of the
            zero probe images, see :func:`run_probe`. Defaults to None.

    Returns:
        list[str]: at least two feature names, e.g.
        ``['backbone.layer1', ..., 'backbone.layer4']`` or
        ``['neck[0]', ..., 'neck[4]']``.

    Raises:
        ValueError: ``net`` has neither neck nor backbone, or fewer than two
            features were found.
    """
    parts = [
        p for p in ('neck', 'backbone')
        if isinstance(getattr(net, p, None), nn.Module)
    ]
    if not parts:
        raise ValueError(
            f'{type(net).__name__} has no neck or backbone to take default '
            f'features from; set `features` explicitly.')
    stages = [f'backbone.{s}' for s in backbone_stages(net.backbone)] \
        if 'backbone' in parts else []
    recorder = FeatureRecorder(net, parts + stages)

    def read(recorder, input_shape):
        recorded = []
        for name in stages:
            try:
                recorder.get(name)
            except (RuntimeError,
                    ValueError):  # ran twice, or no tensor: not a stage
                continue
            recorded.append(name)
        if len(recorded) >= 2:
            return recorded
        for part in parts:
            out = recorder.module_output(part)
            if isinstance(out, (tuple, list)) and len(out) >= 2:
                return [f'{part}[{i}]' for i in range(len(out))]
        return recorded

    features = run_probe(net, recorder, read, probe_input_shape)
    if len(features) < 2:
        raise ValueError(
            f'{type(net).__name__}: no backbone stages were found and its '
            'neck and backbone have a single output each; set `features` '
            'explicitly (module paths, e.g. "backbone.layer3").')
    return features
