"""Which recorded features teach which: the ``features`` and ``pairs``
options of a distiller.

A pair names each end as (network key, feature name); the network key is the
distiller's attribute holding that network (``architecture`` for the trained
model, ``teacher``, ``peer<i>``).
"""
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from muse_det.information.validation import check_weight
from ..recorders import FeatureSpec

# The distiller's attribute holding the trained model; its checkpoint keys
# carry this prefix.
ARCHITECTURE = 'architecture'


@dataclass(frozen=True)
class FeaturePair:
    """A student feature taught by a target feature.

    Args:
        student (tuple[str, str]): ``(network key, feature name)`` of the
            taught feature.
        target (tuple[str, str]): ``(network key, feature name)`` of the
            teaching feature.
        weight (float): the pair's weight in the distillers' pair-weighted
            mean of the pair losses. Defaults to 1.0.
    """
    student: Tuple[str, str]
    target: Tuple[str, str]
    weight: float = 1.0


def feature_label(net: str, feature: str) -> str:
    """A log-friendly name of a feature.

    ``[i]`` indexes become ``.i`` (``neck[0]`` -> ``neck.0``); features of
    networks other than the architecture are prefixed with the network key
    (``teacher.backbone.layer1``).

    Args:
        net (str): the network key.
        feature (str): the feature name.

    Returns:
        str: the label.
    """
    name = re.sub(r'\[(-?\d+)\]', r'.\1', feature)
    return name if net == ARCHITECTURE else f'{net}.{name}'


def normalise_features(features) -> List[str]:
    """The ``features`` option as a list of valid names, each once.

    Args:
        features (str | Sequence[str]): one feature name or several.

    Returns:
        list[str]: the names, in the given order.

    Raises:
        ValueError: a name does not parse (see
            :meth:`~muse_det.models.recorders.FeatureSpec.parse`) or is
            listed twice.
    """
    if isinstance(features, str):
        features = [features]
    features = list(features)
    for f in features:
        FeatureSpec.parse(f)
    if len(set(features)) != len(features):
        raise ValueError(f'`features` lists a name twice: {features}')
    return features


def parse_pairs(
        pairs,
        features: Sequence[str],
        net: str = ARCHITECTURE,
        target_net: Optional[str] = None,
        target_features: Optional[Sequence[str]] = None) -> List[FeaturePair]:
    """Normalise the ``pairs`` option into :class:`FeaturePair` items.

    Args:
        pairs (Sequence | None): ``None``: every feature but the last is
            taught by the last (the deepest) of ``features``, on
            ``target_net``. Otherwise items ``(student, target)``,
            ``(student, target, weight)`` or ``dict(student=...,
            target=..., weight=...)``; the weight defaults to 1.0.
        features (Sequence[str]): the student network's recorded features.
        net (str): the student network's key. Defaults to
            ``'architecture'``.
        target_net (str, optional): the target network's key; None:
            ``net``. Defaults to None.
        target_features (Sequence[str], optional): the target network's
            recorded features; None: ``features``. Defaults to None.

    Returns:
        list[FeaturePair]: one per pair.

    Raises:
        ValueError: fewer than two features with ``pairs=None``, a malformed
            item, a feature that is not recorded, or a weight that is not a
            finite non-negative number.
    """
    target_net = target_net or net
    target_features = features if target_features is None else target_features
    if pairs is None:
        if len(features) < 2:
            raise ValueError(
                'self-distillation needs at least 2 features (shallow ones '
                f'taught by the deepest), got {list(features)}; list more in '
                '`features`, or set `pairs`.')
        return [
            FeaturePair((net, f), (target_net, features[-1]))
            for f in features[:-1]
        ]
    result = []
    for i, p in enumerate(pairs):
        if isinstance(p, dict):
            unknown = set(p) - {'student', 'target', 'weight'}
            if unknown or not {'student', 'target'} <= set(p):
                raise ValueError(
                    f'pairs[{i}] = {p!r}: a pair dict needs keys "student" '
                    f'and "target" (and optionally "weight"); got {sorted(p)}')
            s, t, w = p['student'], p['target'], p.get('weight', 1.0)
        elif isinstance(p, (tuple, list)) and len(p) in (2, 3):
            s, t, w = (*p, 1.0) if len(p) == 2 else p
        else:
            raise ValueError(
                f'pairs[{i}] = {p!r}: give (student, target), (student, '
                'target, weight) or dict(student=, target=, weight=)')
        for end, known, what in ((s, features, 'features'),
                                 (t, target_features, 'features' if target_net
                                  == net else f'{target_net}_features')):
            if end not in known:
                raise ValueError(
                    f'pairs[{i}] uses {end!r}, which is not in `{what}` '
                    f'{list(known)}; add it to `{what}`.')
        result.append(
            FeaturePair((net, s), (target_net, t),
                        check_weight(w, f'pairs[{i}] weight')))
    return result


def frozen_students(pairs: Sequence[FeaturePair], features: dict) -> List[str]:
    """The student features of a training step that carry no gradient.

    A student computed only by frozen modules (e.g. ``backbone.layer1``
    under mmdet's ``frozen_stages=1``) cannot be changed by its pair: the
    pair trains nothing but adapters and critics (its own, and a target
    adapter it may share with other pairs).

    Args:
        pairs (Sequence[FeaturePair]): the distiller's pairs.
        features (dict[tuple[str, str], Tensor]): ``(network key, name)`` ->
            the step's recorded feature, recorded with gradients enabled.

    Returns:
        list[str]: the frozen students' labels (:func:`feature_label`), each
        once, in pair order.
    """
    return [
        feature_label(*key) for key in dict.fromkeys(p.student for p in pairs)
        if not features[key].requires_grad
    ]
