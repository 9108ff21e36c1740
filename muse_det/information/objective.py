"""The MUSE objective: mutual information with the target plus the
student's self-information."""
from typing import Dict, Optional

from torch import Tensor, nn

from .validation import check_choice, check_weight
from .entropy import build_entropy_estimator
from .mutual_information import build_mi_estimator

DEFAULT_ENTROPY = {'additive': 'gaussian', 'multiplicative': 'coding_rate'}
DEFAULT_ENTROPY_WEIGHT = 0.1


class MUSEObjective(nn.Module):
    """``forward(scores [N, M], z_s [N, d], offset=0) -> dict(objective=J,
    mi=I, entropy=H)``; J is maximised. Positives at (i, offset + i) of the
    scores (the diagonal when square).

    - ``variant='multiplicative'`` (default): J = I+ * R / d, I+ =
      max(I - chance_level, 0)
    - ``variant='additive'``:       J = mu * I + lambda * H / d

    The default is the variant the method benchmark measured ahead on both
    tasks (docs/method.md, "Defaults, and why").

    I from ``mi_estimator`` on the critic scores (diagonal = positives); H (R)
    from ``entropy_estimator`` on the student embedding z_s, divided by d so
    that lambda does not have to change with the embedding size. Estimators are
    names, ``dict(type=..., **kwargs)`` or modules. Defaults: 'gaussian'
    (standardised) entropy for additive, 'coding_rate' (unit rows, nonnegative)
    for multiplicative -- the product needs a nonnegative R.

    ``entropy_weight`` (lambda, additive only; default 0.1): modest on purpose.
    Small experiments lost accuracy with the entropy term alone at weights
    0.3-3 while MI alone was neutral, so the entropy starts as a small
    regulariser; the method benchmark sweeps it. A plain float attribute, so a
    hook may warm it up. Setting it for the multiplicative variant is an error
    rather than silently ignored. ``mi_weight`` (mu, additive only; default
    1) exists for the ablation of MUSE's parts: mu = 0 keeps the
    self-information alone (the critic and adapters stay in the graph with
    zero gradient, so DDP sees the same parameters), lambda = 0 the MI alone.

    Multiplicative gradient: I+ clips at chance, and an untrained critic sits
    at (or, by convexity of softplus, below) chance, so a plain clamp would
    give zero gradient to the critic and the run would never start. I+
    therefore uses a straight-through clamp: its *value* is max(I - chance, 0),
    its gradient is that of I. Then dJ/dI = R/d >= 0 (a collapsed layer gets
    little credit for MI) and dJ/dR = I+/d (an uninformative layer little
    credit for entropy).
    """

    VARIANTS = ('additive', 'multiplicative')

    def __init__(self,
                 variant: str = 'multiplicative',
                 mi_estimator='jsd',
                 entropy_estimator=None,
                 entropy_weight: Optional[float] = None,
                 mi_weight: Optional[float] = None):
        super().__init__()
        self.variant = check_choice('MUSE variant', variant, self.VARIANTS)
        self.mi = build_mi_estimator(mi_estimator)
        self.entropy = build_entropy_estimator(entropy_estimator
                                               or DEFAULT_ENTROPY[variant])
        for name, value in (('entropy_weight', entropy_weight), ('mi_weight',
                                                                 mi_weight)):
            if variant == 'multiplicative' and value is not None:
                raise ValueError(
                    f"{name} applies to variant='additive' only (the "
                    'multiplicative J = I+ * R / d has no weight); remove it '
                    "or use variant='additive'")
        self.mi_weight = check_weight(1.0 if mi_weight is None else mi_weight,
                                      'mi_weight')
        self.entropy_weight = check_weight(
            DEFAULT_ENTROPY_WEIGHT
            if entropy_weight is None else entropy_weight, 'entropy_weight')

    def forward(self,
                scores: Tensor,
                z_s: Tensor,
                offset: int = 0) -> Dict[str, Tensor]:
        mi = self.mi(scores, offset)
        entropy = self.entropy(z_s)
        d = z_s.shape[1]
        if self.variant == 'additive':
            objective = check_weight(self.mi_weight, 'mi_weight') * mi + \
                check_weight(self.entropy_weight,
                             'entropy_weight') * entropy / d
        else:
            shifted = mi - self.mi.chance_level
            # straight-through
            mi_plus = shifted + (shifted.clamp(min=0) - shifted).detach()
            objective = mi_plus * entropy / d
        return dict(objective=objective, mi=mi, entropy=entropy)
