"""Where a recorded pixel looks: receptive-field centres
measured with autograd.

Pixel i of a map of stride S is centred *near* image coordinate S * i; how near
depends on the network. FPN's nearest top-down upsampling, for instance, makes
the 3x3 output conv of P3 mix in coarser levels read one pixel up-left, which
shifts P3's receptive-field centres up-left (why it matters:
docs/method.md, "Samples"). The distillers read the finer map of a pair at the
pixel that looks at the same point as the coarser one's, so they measure these
offsets once at build.
"""
import copy
from typing import Dict, Optional, Tuple

import torch
from torch import nn

from .feature_recorder import FeatureRecorder
from .shape_probe import forward_features

# (dy, dx) in input pixels: map pixel i looks at image point stride * i + d
Offset = Tuple[float, float]


def uniform_weights_(model: nn.Module) -> nn.Module:
    """Make every conv a positive box filter (weight 1/fan_in, no bias) and put
    the model in eval mode (BN with its statistics), in place.

    On a positive input every ReLU then passes, the network is linear and a
    pixel's input gradient is its geometric receptive field -- symmetric about
    its centre, free of the asymmetry of one draw of random weights.

    Args:
        model (nn.Module): the model to modify (pass a copy to keep the
            original).

    Returns:
        nn.Module: ``model`` itself, modified and in eval mode.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.conv._ConvNd):
                m.weight.fill_(1.0 / m.weight[0].numel())
                if m.bias is not None:
                    m.bias.zero_()
    return model.eval()


def centre_of_mass(grad: torch.Tensor) -> Offset:
    """Centre of mass of ``|grad|`` summed over channels.

    Args:
        grad (Tensor): an input gradient, shape (C, H, W).

    Returns:
        tuple[float, float]: ``(y, x)`` of the centre, in pixels.
    """
    weight = grad.abs().sum(0).double()
    ys = torch.arange(weight.shape[0], dtype=weight.dtype)[:, None]
    xs = torch.arange(weight.shape[1], dtype=weight.dtype)[None, :]
    total = weight.sum()
    return float((weight * ys).sum() / total), float(
        (weight * xs).sum() / total)


def receptive_field_offsets(
        net: nn.Module,
        strides: Dict[str, float],
        in_channels: int = 3) -> Dict[str, Optional[Offset]]:
    """Receptive-field offsets of the map features of ``net``.

    For each map feature ``name`` of integer stride S = ``strides[name]``:
    ``(dy, dx)`` such that its pixel i looks at image point S * i + d.
    Measured on a copy of ``net`` (:func:`uniform_weights_`) through
    :func:`~.shape_probe.forward_features` on a ones input of side
    ``max(64, 4 * largest stride)``, at the pixel on the image centre, so the
    zero padding truncates every receptive field symmetrically and does not
    move its centre. A model that fails on that input gets no offsets (pixel
    i is then read at S * i).

    Args:
        net (nn.Module): the network (not modified), with ``extract_feat``.
        strides (dict[str, float | None]): recorded feature name -> stride in
            input pixels (``None`` for a vector), as
            :func:`~.shape_probe.probe_features` returns them.
        in_channels (int): channels of the ones input. Defaults to 3.

    Returns:
        dict[str, tuple[float, float] | None]: feature name -> ``(dy, dx)``,
        ``None`` for vectors, non-integer strides and whatever could not be
        measured.
    """
    names = [
        n for n, s in strides.items()
        if s is not None and float(s).is_integer()
    ]
    out: Dict[str, Optional[Offset]] = {n: None for n in strides}
    if not names:
        return out
    size = max(64, 4 * int(max(strides[n] for n in names)))
    probe = uniform_weights_(copy.deepcopy(net))
    probe.requires_grad_(False)
    image = torch.ones(1, in_channels, size, size, requires_grad=True)
    recorder = FeatureRecorder(probe, names)
    try:
        with recorder:
            forward_features(probe, recorder, image)
            feats = {n: recorder.get(n) for n in names}
    except Exception:  # a model this input does not suit: fall back to S * i
        return out
    for n in names:
        stride = int(strides[n])
        feat = feats[n]
        i = (size // 2) // stride
        if feat.ndim != 4 or i >= min(feat.shape[-2:]):
            continue
        (grad, ) = torch.autograd.grad(
            feat[0, :, i, i].sum(),
            image,
            retain_graph=True,
            allow_unused=True)
        if grad is None or not torch.isfinite(grad).all() or grad.abs().sum(
        ) == 0:
            continue
        cy, cx = centre_of_mass(grad[0])
        out[n] = (cy - stride * i, cx - stride * i)
    return out
