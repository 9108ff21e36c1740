"""Benchmark muse_det.information's estimators: accuracy against closed forms, time and memory.

For every estimator and every (d, N) cell:
- estimate vs closed form. MI (jsd, dv, infonce): d independent correlated
  Gaussian pairs with rho chosen so that the true I(x; y) = --mi nats at every
  d (so cells are comparable and I < log N), scored by the *analytic optimal
  critic* T*(x, y) = log p(x, y) / (p(x) p(y)) -- no training, so the row
  measures the estimator, not an optimiser. JSD bounds 2 JS(P||Q) - log 4, not
  I: no truth. Entropy (gaussian, edgeworth, knn; normalize=None): z ~
  N(0, Sigma), H = 1/2 logdet(2 pi e Sigma); coding_rate: its population value
  1/2 logdet(I + d / eps^2 Sigma). Critics (separable, concat; opt-in with
  --estimators): timing only.
- ms per forward + backward: median of --repeats runs after one warm-up
  (torch.cuda.synchronize around each run on cuda).
- peak memory of one forward + backward (a separate, untimed run): the
  highest amount of memory allocated by torch *during* the call, above what
  was allocated before it (inputs excluded). cuda:
  torch.cuda.max_memory_allocated minus memory_allocated before. cpu:
  torch.profiler with profile_memory=True, summing its allocation (+) and
  free (-) events in time order and taking the maximum -- the same quantity
  for torch's CPU allocator ('-' if the profiler API changed). (Process RSS
  was tried and rejected: freed heap pages stay resident and the kernel
  batches RSS counters, so cells below ~10 MB read as 0.)
Then the growth exponents b, c of a least-squares fit log t = a + b log N + c
log d per estimator (small cells are overhead-bound, so these under-state the
asymptotic O(N^2) / O(d^3)).

The concat critic's [N, N, hidden] activation is skipped above
--concat-max-mb (N=4096, hidden=256 needs 17 GB);
ConcatCritic(chunk_size=...) trades time for that memory.

``--view-study`` adds the self-information view table: where MUSE measures
H(s). A frozen rank-8 feature s [512, 64]; everything learnable that can sit in
front of the estimator (an MLP adapter to 128-d) is trained alone for 50 Adam
steps to *raise* H. Rows: H read on the adapter's output (through a fixed 128
-> 32 projection) vs on the fixed 64 -> 32 projection of the raw feature
(MUSELoss.entropy_view); columns: H before/after, its maximum, and ||dH/ds||,
the gradient that reaches the layer, before/after.

Example: python tools/analysis_tools/benchmark_estimators.py --device cpu --out bench.md
"""  # noqa: E501 (usage lines)
import argparse
import csv
import math
import statistics
import sys
import time

import torch

from muse_det.information import (CRITICS, ENTROPY_ESTIMATORS, MI_ESTIMATORS,
                                  build_critic, build_entropy_estimator,
                                  build_mi_estimator)

CRITIC_ROWS = [f'critic:{name}' for name in CRITICS]
DEFAULT_ESTIMATORS = list(MI_ESTIMATORS) + list(ENTROPY_ESTIMATORS)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--dims', type=int, nargs='+', default=[16, 64, 256])
    p.add_argument('--samples', type=int, nargs='+', default=[256, 1024, 4096])
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument(
        '--estimators',
        nargs='+',
        default=DEFAULT_ESTIMATORS,
        choices=DEFAULT_ESTIMATORS + CRITIC_ROWS)
    p.add_argument(
        '--mi',
        type=float,
        default=2.0,
        help='true I(x; y) in nats for MI cells')
    p.add_argument(
        '--concat-max-mb',
        type=float,
        default=1100.0,
        help='skip concat-critic cells whose [N, N, hidden] activation '
        'exceeds this')
    p.add_argument(
        '--threads', type=int, default=None, help='torch intra-op threads')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument(
        '--out',
        default=None,
        help='also write the table (.csv, else markdown)')
    p.add_argument(
        '--view-study',
        action='store_true',
        help='also print the self-information view table (see the module doc)')
    return p.parse_args(argv)


# --- data with closed forms --------------------------------------------------
def mi_cell(n, d, mi, gen, device):
    """Correlated Gaussians with total I = mi and the analytic critic's
    [N, N] scores."""
    rho = math.sqrt(1 - math.exp(-2 * mi / d))  # -d/2 log(1 - rho^2) = mi
    x = torch.randn(n, d, generator=gen).to(device)
    y = rho * x + math.sqrt(1 - rho**2) * torch.randn(
        n, d, generator=gen).to(device)
    quad = (rho**2 * (x**2).sum(1)[:, None] - 2 * rho * x @ y.t() + rho**2 *
            (y**2).sum(1)[None, :]) / (2 * (1 - rho**2))
    # log density ratio; its constant -d/2 log(1-rho^2) is mi itself
    return x, y, mi - quad


def gaussian_cell(n, d, gen, device):
    q = torch.linalg.qr(torch.randn(d, d, generator=gen,
                                    dtype=torch.float64)).Q
    eig = torch.exp(
        torch.empty(d, dtype=torch.float64).uniform_(
            math.log(0.5), math.log(2.0), generator=gen))
    sigma = q @ torch.diag(eig) @ q.t()
    z = (
        torch.randn(n, d, generator=gen, dtype=torch.float64)
        @ (q * eig.sqrt()).t())
    return z.float().to(device), sigma


# ---
# measurement -----------------------------------------------------------------
def sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def _cpu_peak_bytes(fn):
    from torch.profiler import ProfilerActivity, profile
    with profile(
            activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.profiler.kineto_results.events()
                     if e.name() == '[memory]'
                     and e.device_type() == torch.autograd.DeviceType.CPU),
                    key=lambda e: e.start_ns())
    live = peak = 0
    for e in events:
        live += e.nbytes()  # + on allocation, - on free
        peak = max(peak, live)
    return peak


def peak_mb(fn, device):
    if device == 'cuda':
        sync(device)
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        sync(device)
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    try:
        return _cpu_peak_bytes(fn) / 2**20
    except (AttributeError, RuntimeError):
        return float('nan')


def median_ms(fn, device, repeats):
    fn()  # warm-up (allocator, kernels)
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def make_cell(name, n, d, args, gen):
    """-> (forward_backward closure, estimate, truth) for one cell;
    None to skip."""
    dev = args.device
    if name in MI_ESTIMATORS:
        _, _, scores = mi_cell(n, d, args.mi, gen, dev)
        est = build_mi_estimator(name).to(dev)
        with torch.no_grad():
            estimate = est(scores).item()
        scores.requires_grad_(True)
        return (lambda: est(scores).backward()), estimate, (
            None if name == 'jsd' else args.mi)
    if name in ENTROPY_ESTIMATORS:
        z, sigma = gaussian_cell(n, d, gen, dev)
        est = build_entropy_estimator(name, normalize=None).to(dev)
        if name == 'coding_rate':
            eye = torch.eye(d, dtype=torch.float64)
            truth = 0.5 * torch.logdet(eye + d / est.eps**2 * sigma).item()
        else:
            truth = 0.5 * torch.logdet(2 * math.pi * math.e * sigma).item()
        with torch.no_grad():
            estimate = est(z).item()
        z.requires_grad_(True)
        return (lambda: est(z).backward()), estimate, truth
    kind = name.split(':', 1)[1]
    critic = build_critic(kind, d, d).to(dev)
    if (kind == 'concat' and
            n * n * critic.out.in_features * 4 / 2**20 > args.concat_max_mb):
        return None
    x, y, _ = mi_cell(n, d, args.mi, gen, dev)
    return (lambda: critic(x, y).sum().backward()), None, None


def fit_exponents(rows):
    """Least squares log t = a + b log N + c log d -> (b, c); a variable that
    does not vary over the cells gets None."""
    pts = [(math.log(r['N']), math.log(r['d']), math.log(r['ms']))
           for r in rows if r['ms'] > 0]
    varying = [k for k in (0, 1) if len({p[k] for p in pts}) > 1]
    exponents = [None, None]
    if varying and len(pts) > len(varying):
        a = torch.tensor([[1.0] + [p[k] for k in varying] for p in pts],
                         dtype=torch.float64)
        t = torch.tensor([[p[2]] for p in pts], dtype=torch.float64)
        coef = torch.linalg.lstsq(a, t).solution.flatten().tolist()
        for i, k in enumerate(varying):
            exponents[k] = coef[i + 1]
    return tuple(exponents)


# ---
# output ----------------------------------------------------------------------
def fmt(v, spec='.3f'):
    return '-' if v is None or (isinstance(v, float)
                                and math.isnan(v)) else format(v, spec)


def markdown(rows, exponents, args):
    device = torch.cuda.get_device_name() if args.device == 'cuda' else \
        f'cpu ({torch.get_num_threads()} threads)'
    lines = [
        f'device: {device}; torch {torch.__version__}; median of '
        f'{args.repeats}; MI cells: true I = {args.mi} nats, analytic critic; '
        'entropy cells: N(0, Sigma), normalize=None', '',
        '| estimator | d | N | estimate | truth | error | ms fwd+bwd | peak '
        'MB |', '|---|---:|---:|---:|---:|---:|---:|---:|'
    ]
    for r in rows:
        err = None if r['truth'] is None or r['estimate'] is None else r[
            'estimate'] - r['truth']
        lines.append(
            f"| {r['estimator']} | {r['d']} | {r['N']} | {fmt(r['estimate'])} "
            f"| {fmt(r['truth'])} | {fmt(err)} | {fmt(r['ms'], '.2f')} | "
            f"{fmt(r['peak_mb'], '.1f')} |" if not r.get('skipped') else
            f"| {r['estimator']} | {r['d']} | {r['N']} | skipped: "
            f"{r['skipped']} | | | | |")
    lines += [
        '', '| estimator | time exponent in N | time exponent in d |',
        '|---|---:|---:|'
    ]
    lines += [
        f'| {name} | {fmt(b, ".2f")} | {fmt(c, ".2f")} |'
        for name, (b, c) in exponents.items()
    ]
    return '\n'.join(lines)


def view_study(seed: int = 0, steps: int = 50) -> str:
    """The self-information view table (module doc): markdown."""
    from muse_det.information import MLPAdapter, MUSELoss
    from muse_det.information.pair_losses.muse import \
        fixed_orthonormal_projection
    gen = torch.Generator().manual_seed(seed)
    # rank 8
    s = torch.randn(512, 8, generator=gen) @ torch.randn(8, 64, generator=gen)
    lines = [
        '| H measured on | estimator | H before | H after 50 steps | maximum '
        '| ||dH/ds|| before | ||dH/ds|| after |',
        '|---|---|---:|---:|---:|---:|---:|'
    ]
    # gaussian: decorrelated standardised dims, shrinkage eps = 1e-2 included
    for name, maximum in (('gaussian',
                           16 * math.log(2 * math.pi * math.e * 1.01)),
                          ('coding_rate', 16 * math.log(1 + 1 / 0.25))):
        estimator = build_entropy_estimator(name)
        for view in ('adapter output (before)',
                     'fixed view of the raw feature (now)'):
            torch.manual_seed(seed)
            adapter = MLPAdapter(64, 128)
            if view.startswith('adapter'):
                proj = fixed_orthonormal_projection(128, 32)

                def read(x, adapter=adapter, proj=proj):
                    return adapter(x) @ proj
            else:
                loss = MUSELoss(64, 16, entropy_dim=32)
                read = loss.entropy_view

            def measure(read=read):
                x = s.clone().requires_grad_(True)
                h = estimator(read(x))
                (g, ) = torch.autograd.grad(h, x)
                return h.item(), g.norm().item()

            h0, g0 = measure()
            params = list(adapter.parameters())
            opt = torch.optim.Adam(params, lr=1e-2)
            for _ in range(steps):
                h = estimator(read(s))
                # nothing learnable in front of the estimator
                if not h.requires_grad:
                    break
                opt.zero_grad()
                (-h).backward()
                opt.step()
            h1, g1 = measure()
            lines.append(
                f'| {view} | {name} | {h0:.2f} | {h1:.2f} | {maximum:.2f} | '
                f'{g0:.3g} | {g1:.3g} |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda: no CUDA device visible to torch')
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for name in args.estimators:
        for d in args.dims:
            for n in args.samples:
                cell = make_cell(name, n, d, args,
                                 torch.Generator().manual_seed(args.seed))
                row = dict(
                    estimator=name,
                    d=d,
                    N=n,
                    estimate=None,
                    truth=None,
                    ms=float('nan'),
                    peak_mb=float('nan'))
                if cell is None:
                    row['skipped'] = (
                        f'activation > {args.concat_max_mb:.0f} MB')
                else:
                    fn, row['estimate'], row['truth'] = cell
                    row['ms'] = median_ms(fn, args.device, args.repeats)
                    row['peak_mb'] = peak_mb(fn, args.device)
                rows.append(row)
                print(
                    f"[{name} d={d} N={n}] estimate={fmt(row['estimate'])} "
                    f"truth={fmt(row['truth'])} ms={fmt(row['ms'], '.2f')} "
                    f"peak_mb={fmt(row['peak_mb'], '.1f')} "
                    f"{row.get('skipped', '')}",
                    file=sys.stderr,
                    flush=True)
    exponents = {
        name: fit_exponents([
            r for r in rows if r['estimator'] == name and not r.get('skipped')
        ])
        for name in args.estimators
    }
    table = markdown(rows, exponents, args)
    if args.view_study:
        table += (
            '\n\nSelf-information view (H of a frozen rank-8 layer, 50 Adam '
            'steps of every learnable parameter in front of the '
            'estimator):\n\n' + view_study(args.seed))
    print(table)
    if args.out:
        with open(args.out, 'w', newline='') as f:
            if args.out.endswith('.csv'):
                writer = csv.DictWriter(
                    f,
                    fieldnames=[
                        'estimator', 'd', 'N', 'estimate', 'truth', 'ms',
                        'peak_mb', 'skipped'
                    ])
                writer.writeheader()
                writer.writerows(rows)
            else:
                f.write(table + '\n')
    return rows, exponents


if __name__ == '__main__':
    main()
