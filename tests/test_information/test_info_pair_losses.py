"""Pair losses: golden values, gradient routing, runtime weight, state."""
import math

import numpy as np
import pytest
import torch

from muse_det.information import (PAIR_LOSSES, ATDistillLoss,
                                  CosineDistillLoss, CRDDistillLoss,
                                  L2DistillLoss, MUSELoss, NSTDistillLoss,
                                  VIDDistillLoss, build_pair_loss)

RNG = np.random.default_rng(0)
S_VEC = RNG.normal(size=(4, 3))
T_VEC = RNG.normal(size=(4, 3))
S_MAP = RNG.normal(size=(2, 3, 2, 2))
T_MAP = RNG.normal(size=(2, 2, 4, 4))


def identity_(module):
    """Make every Linear in ``module`` an identity map (square weights), so
    golden values can be computed on the raw inputs."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.weight.copy_(torch.eye(*layer.weight.shape))
                if layer.bias is not None:
                    layer.bias.zero_()
    return module


def run(loss, s, t):
    return loss(
        torch.tensor(s, dtype=torch.float32),
        torch.tensor(t, dtype=torch.float32))


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs)


# --- golden values -----------------------------------------------------------
def test_golden_l2_cosine_vid():
    s, t = S_VEC.tolist(), T_VEC.tolist()
    # l2 and vid regress the target standardised per channel over the 4
    # samples (ddof 1)
    t_std = (T_VEC - T_VEC.mean(0)) / T_VEC.std(0, ddof=1)
    std_pairs = [(s[i][c], t_std[i][c]) for i in range(4) for c in range(3)]
    kw = dict(pool=True, adapter='linear', loss_weight=2.5)

    l2 = run(identity_(L2DistillLoss(3, 3, **kw)), S_VEC, T_VEC)
    assert l2['loss'].item() == pytest.approx(
        2.5 * mean((a - b)**2 for a, b in std_pairs), abs=1e-5)

    def cos(u, v):
        return (sum(a * b for a, b in zip(u, v)) /
                math.sqrt(sum(a * a for a in u) * sum(b * b for b in v)))

    cosine = run(identity_(CosineDistillLoss(3, 3, **kw)), S_VEC, T_VEC)
    assert cosine['loss'].item() == pytest.approx(
        2.5 * mean(1 - cos(s[i], t[i]) for i in range(4)), abs=1e-5)

    var = 5.0  # softplus(alpha_init) + eps == init_var
    vid = run(
        identity_(VIDDistillLoss(3, 3, init_var=var, **kw)), S_VEC, T_VEC)
    expected = mean(0.5 * (math.log(var) + (b - a)**2 / var)
                    for a, b in std_pairs)
    assert vid['loss'].item() == pytest.approx(2.5 * expected, abs=1e-5)
    assert set(l2) == set(cosine) == set(vid) == {'loss'}


def window_mean(m, i, j):
    """Mean of the 3x3 window of the 4x4 map ``m`` centred on pixel (2i, 2j),
    inside the map: pixel i of the stride-2 (coarse) grid sits on fine pixel
    2i, not on the block 2i..2i+1."""
    return mean(m[2 * i + u][2 * j + v] for u in (-1, 0, 1) for v in (-1, 0, 1)
                if 0 <= 2 * i + u < 4 and 0 <= 2 * j + v < 4)


def pooled_target():
    """T_MAP (4x4, the finer map) read on the student's 2x2 grid."""
    return [[[[window_mean(T_MAP[b, c], i, j) for j in range(2)]
              for i in range(2)] for c in range(2)] for b in range(2)]


def test_golden_at():

    def normalised(a):
        norm = math.sqrt(sum(v * v for v in a))
        return [v / norm for v in a]

    # f [C][2][2] -> channel mean of f^2 at the 4 locations
    def student_attention(f):
        return normalised([
            mean(f[c][i][j]**2 for c in range(len(f))) for i in range(2)
            for j in range(2)
        ])

    # attention at the native 4x4 resolution, then aligned
    def target_attention(f):
        a = [[mean(f[c][y][x]**2 for c in range(len(f))) for x in range(4)]
             for y in range(4)]
        return normalised(
            [window_mean(a, i, j) for i in range(2) for j in range(2)])

    expected = 1e3 / 2 * mean((x - y)**2 for b in range(2) for x, y in zip(
        student_attention(S_MAP[b].tolist()),
        target_attention(T_MAP[b].tolist())))
    out = run(ATDistillLoss(3, 2), S_MAP, T_MAP)
    assert out['loss'].item() == pytest.approx(expected, rel=1e-5)


def test_golden_nst():

    def channels(f):  # each channel's 4-location pattern, L2-normalised
        vecs = [[f[c][i][j] for i in range(2) for j in range(2)]
                for c in range(len(f))]
        return [[x / math.sqrt(sum(y * y for y in v)) for x in v]
                for v in vecs]

    def k(u, v):
        # polynomial kernel, degree 2, c = 0
        return sum(a * b for a, b in zip(u, v))**2

    t = pooled_target()
    per_image = []
    for b in range(2):
        fs, ft = channels(S_MAP[b].tolist()), channels(t[b])
        per_image.append(
            mean(k(u, v) for u in fs
                 for v in fs) + mean(k(u, v) for u in ft for v in ft) -
            2 * mean(k(u, v) for u in fs for v in ft))
    out = run(NSTDistillLoss(3, 2), S_MAP, T_MAP)
    assert out['loss'].item() == pytest.approx(
        50 / 2 * mean(per_image), rel=1e-5)


def cosine_scores(s, t, tau):

    def unit(v):
        n = math.sqrt(sum(x * x for x in v))
        return [x / n for x in v]

    s, t = [unit(v) for v in s], [unit(v) for v in t]
    return [[sum(a * b for a, b in zip(u, v)) / tau for v in t] for u in s]


def critic_kw(**extra):
    return dict(
        pool=True,
        adapter='linear',
        embed_dim=3,
        critic=dict(type='separable', proj_dim=3, tau=0.5),
        **extra)


def test_golden_crd():
    scores = cosine_scores(S_VEC.tolist(), T_VEC.tolist(), 0.5)
    n = 4
    nce = math.log(n) + mean(
        scores[i][i] - math.log(sum(math.exp(x) for x in scores[i]))
        for i in range(n))
    out = run(identity_(CRDDistillLoss(3, 3, **critic_kw())), S_VEC, T_VEC)
    assert out['loss'].item() == pytest.approx(-nce, abs=1e-5)


def golden_jsd(t):
    n = len(t)
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    return (mean(-sp(-t[i][i]) for i in range(n)) -
            mean(sp(t[i][j]) for i in range(n) for j in range(n) if i != j))


def test_golden_muse_additive():
    # J = I_JSD + lambda * H / d; H: Gaussian entropy of the standardised
    # student (correlation matrix), no shrinkage, no projection.
    lam, d = 0.3, 3
    scores = cosine_scores(S_VEC.tolist(), T_VEC.tolist(), 0.5)
    corr = np.corrcoef(S_VEC, rowvar=False)
    entropy = 0.5 * d * math.log(2 * math.pi * math.e) + 0.5 * math.log(
        np.linalg.det(corr))
    expected = -(golden_jsd(scores) + lam * entropy / d)
    loss = identity_(
        MUSELoss(
            3,
            3,
            variant='additive',
            entropy_weight=lam,
            entropy_dim=None,
            entropy_estimator=dict(type='gaussian', eps=0),
            **critic_kw()))
    out = run(loss, S_VEC, T_VEC)
    assert out['loss'].item() == pytest.approx(expected, abs=1e-5)
    assert out['mi'].item() == pytest.approx(golden_jsd(scores), abs=1e-5)
    assert out['entropy'].item() == pytest.approx(entropy, abs=1e-4)


def test_golden_muse_multiplicative():
    # J = max(I_JSD + log 4, 0) * R / d; R: coding rate of the centred,
    # unit-norm student rows.
    d, n, eps = 3, 4, 0.5
    # informative target, so that I_JSD is above chance
    t_vec = S_VEC + 0.1 * T_VEC
    scores = cosine_scores(S_VEC.tolist(), t_vec.tolist(), 0.5)
    assert golden_jsd(scores) > -math.log(4)
    z = S_VEC - S_VEC.mean(0)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    rate = 0.5 * math.log(
        np.linalg.det(np.eye(d) + d / (n * eps**2) * z.T @ z))
    expected = -max(golden_jsd(scores) + math.log(4), 0) * rate / d
    loss = identity_(
        MUSELoss(
            3, 3, variant='multiplicative', entropy_dim=None, **critic_kw()))
    out = run(loss, S_VEC, t_vec)
    assert out['loss'].item() == pytest.approx(expected, abs=1e-5)
    assert out['entropy'].item() == pytest.approx(rate, abs=1e-5)


# --- gradient routing --------------------------------------------------------
def maps(requires_grad=True):
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(2, 8, 8, 8, generator=gen).requires_grad_(requires_grad)
    t = torch.randn(2, 16, 4, 4, generator=gen).requires_grad_(requires_grad)
    return s, t


@pytest.mark.parametrize('name', sorted(PAIR_LOSSES))
def test_gradients_reach_student_and_modules_not_detached_target(name):
    loss = build_pair_loss(dict(type=name, num_samples=8), 8, 16)
    s, t = maps()
    loss(s, t)['loss'].backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None  # detach_target=True
    # adapters, critics (incl. the target adapter), vid
    for pname, p in loss.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize('name', ['muse', 'crd', 'at'])
def test_target_gets_gradient_when_not_detached(name):
    loss = build_pair_loss(
        dict(type=name, num_samples=8, detach_target=False), 8, 16)
    s, t = maps()
    loss(s, t)['loss'].backward()
    assert t.grad is not None and t.grad.abs().sum() > 0


def test_target_adapter_trains_with_detached_target():
    loss = MUSELoss(8, 16, num_samples=8)
    s, t = maps()
    loss(s, t)['loss'].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in loss.target_adapter.parameters())


def test_pairs_sharing_a_target_adapter_embed_the_target_once():
    """Two MUSE pairs taught by one target map, one target adapter module:
    within a step (one shared ``draws``) the target samples are embedded
    once, and the losses and every gradient equal those of two pairs whose
    adapters are separate copies of the same weights, embedding on their
    own."""
    torch.manual_seed(0)
    target = torch.randn(4, 16, 4, 4)
    students = [torch.randn(4, 8, 8, 8), torch.randn(4, 6, 16, 16)]

    def pairs(shared):
        torch.manual_seed(1)
        losses = [
            MUSELoss(
                c,
                16,
                num_samples=8,
                strides=(st, 16),
                generator=torch.Generator().manual_seed(2))
            for c, st in ((8, 8), (6, 4))
        ]
        if shared:
            losses[1].target_adapter = losses[0].target_adapter
        else:
            losses[1].target_adapter.load_state_dict(
                losses[0].target_adapter.state_dict())
        # one generator for both, as the distillers give them
        losses[1].sampler.generator = losses[0].sampler.generator
        return losses

    calls = []
    shared = pairs(True)
    shared[0].target_adapter.register_forward_hook(lambda *_: calls.append(1))
    draws = {}
    total = sum(
        loss(s, target, draws=draws)['loss']
        for loss, s in zip(shared, students))
    total.backward()
    assert len(calls) == 1
    separate = pairs(False)
    draws = {}
    outs = [
        loss(s, target, draws=draws)['loss']
        for loss, s in zip(separate, students)
    ]
    sum(outs).backward()
    assert torch.allclose(total, sum(outs))
    grads = [p.grad for p in separate[0].target_adapter.parameters()]
    for p, a, b in zip(shared[0].target_adapter.parameters(), grads,
                       separate[1].target_adapter.parameters()):
        # the shared module collects both pairs' gradients
        assert torch.allclose(p.grad, a + b.grad, atol=1e-6)


@pytest.mark.parametrize(
    'cls,options',
    [
        (MUSELoss, {}),
        (CRDDistillLoss, {}),
        # an estimator whose training forward updates a moving average
        (MUSELoss, dict(mi_estimator=dict(type='dv', ema_momentum=0.9))),
    ])
def test_with_cp_gives_the_same_loss_gradients_and_state(cls, options):
    """with_cp recomputes the student side in backward: over two steps the
    losses, every gradient (features and parameters) and every buffer
    (BatchNorm statistics, DV's moving average) equal those of the run that
    keeps its activations, also when a second backward pass (the distillers'
    gradient statistics) recomputes again, and far fewer bytes are kept."""

    def run_one(with_cp):
        torch.manual_seed(0)
        loss = cls(
            8,
            16,
            num_samples=8,
            with_cp=with_cp,
            generator=torch.Generator().manual_seed(1),
            **options)
        torch.manual_seed(2)
        outs, grads, saved = [], [], []

        def pack(x):
            saved.append(x.untyped_storage().nbytes())
            return x

        for step in range(2):
            student = torch.randn(4, 8, 4, 4, requires_grad=True)
            target = torch.randn(4, 16, 4, 4)
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
                out = loss(student, target)
            # a first pass for a gradient norm, then the step's backward
            first, = torch.autograd.grad(
                out['loss'], student, retain_graph=True)
            out['loss'].backward()
            outs.append(out)
            grads += [first, student.grad]
            grads += [p.grad.clone() for p in loss.parameters()]
            loss.zero_grad()
        return outs, grads, loss.state_dict(), sum(saved)

    plain, plain_grads, plain_state, plain_saved = run_one(False)
    cp, cp_grads, cp_state, cp_saved = run_one(True)
    for a, b in zip(plain, cp):
        for key in a:
            assert torch.equal(a[key], b[key]), key
    assert len(plain_grads) == len(cp_grads)
    for a, b in zip(plain_grads, cp_grads):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)
    for key, value in plain_state.items():
        assert torch.equal(value, cp_state[key]), key
    assert cp_state['student_adapter.1.num_batches_tracked'] == 2
    assert cp_saved < plain_saved / 2


def test_with_cp_refuses_collectives_in_backward():
    with pytest.raises(ValueError, match='set one of them to False'):
        MUSELoss(8, 16, with_cp=True, gather_negatives=True)
    with pytest.raises(ValueError, match='with_cp must be True or False'):
        MUSELoss(8, 16, with_cp=1)
    # what MMEngine's sync_bn does to a model after it is built
    loss = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
        MUSELoss(8, 16, num_samples=8, with_cp=True))
    with pytest.raises(ValueError, match='SyncBatchNorm layers'):
        loss(
            torch.randn(4, 8, 4, 4, requires_grad=True),
            torch.randn(4, 16, 4, 4))


@pytest.mark.parametrize('cls,default', [(MUSELoss, True),
                                         (CRDDistillLoss, False)])
def test_share_target_adapter_option(cls, default):
    assert cls(8, 16).share_target_adapter is default
    assert cls(
        8, 16,
        share_target_adapter=not default).share_target_adapter is (not default)
    with pytest.raises(ValueError, match='share_target_adapter must be'):
        cls(8, 16, share_target_adapter='yes')


# --- runtime weight, logs, state ---------------------------------------------
def test_loss_weight_changes_at_run_time():
    # additive: an untrained critic's multiplicative J is exactly 0
    loss = MUSELoss(
        8,
        16,
        variant='additive',
        num_samples=8,
        generator=torch.Generator().manual_seed(0))
    s, t = maps(requires_grad=False)
    # BatchNorm running stats frozen so both calls see the same function
    loss.eval()
    base = loss(s, t)
    loss.loss_weight = 0.25
    loss.sampler.generator.manual_seed(0)  # same locations as the first call
    loss2 = loss(s, t)
    assert base['loss'].item() != 0
    assert loss2['loss'].item() == pytest.approx(
        0.25 * base['loss'].item(), rel=1e-5)
    assert not base['mi'].requires_grad and not base['entropy'].requires_grad


def test_modules_and_projection_are_saved():
    keys = MUSELoss(64, 16).state_dict().keys()
    for prefix in ('student_adapter.', 'target_adapter.', 'critic.',
                   'entropy_projection'):
        assert any(k.startswith(prefix) for k in keys), prefix
    proj = MUSELoss(64, 16).entropy_projection
    # student channels -> d_H: a view of the raw student
    assert proj.shape == (64, 32)
    # orthonormal, fixed
    assert torch.allclose(proj.t() @ proj, torch.eye(32), atol=1e-5)
    # same on every rank/run
    assert torch.equal(proj, MUSELoss(64, 4).entropy_projection)
    # C_s <= d_H: the channels themselves
    assert MUSELoss(8, 16).entropy_projection is None


def test_registry_names():
    assert set(PAIR_LOSSES) == {
        'muse', 'l2', 'at', 'nst', 'cosine', 'vid', 'crd'
    }
    assert all(cls.name == key for key, cls in PAIR_LOSSES.items())


def test_vector_inputs_sample_per_image():
    gen = torch.Generator().manual_seed(0)
    s, t = torch.randn(6, 8, generator=gen), torch.randn(6, 16, generator=gen)
    for name in ('muse', 'l2', 'cosine', 'vid', 'crd'):
        out = build_pair_loss(name, 8, 16)(s, t)
        assert out['loss'].ndim == 0 and torch.isfinite(out['loss'])


@pytest.mark.parametrize('cls', [L2DistillLoss, VIDDistillLoss])
def test_regression_target_is_standardised(cls):
    # in self-distillation the deepest layer's scale grows; a raw target
    # made l2/vid diverge
    torch.manual_seed(0)
    loss = cls(8, 16, pool=True)
    s, t = torch.randn(32, 8), torch.randn(32, 16)
    small, large = loss(s, t)['loss'], loss(s, 1e3 * t + 50)['loss']
    assert large.item() == pytest.approx(small.item(), rel=1e-4)
