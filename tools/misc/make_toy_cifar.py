#!/usr/bin/env python
"""Generate a small image-classification set in the exact CIFAR-100 *python* format.

Writes the three pickle files of ``cifar-100-python.tar.gz``, unpacked::

    <out>/cifar-100-python/train   dict: data [N, 3072] uint8 (R, G, B planes of 32x32),
                                         fine_labels, coarse_labels, filenames, batch_label
    <out>/cifar-100-python/val     the same for the validation split
    <out>/cifar-100-python/test    the same for the test split
    <out>/cifar-100-python/meta    dict: fine_label_names, coarse_label_names

so ``dict(type='CIFAR100', data_root=<out>)`` reads it exactly like
the real CIFAR-100.

The 10 fine classes are coloured shapes and textures on a noisy gradient
background, in random sizes and positions: filled square, circle, triangle,
diamond, cross, star; outlined ring and frame; horizontal and vertical stripes.
Each class's colours lean towards its own hue, with neighbouring classes
overlapping, so colour is a quick partial cue and the form settles it. The 3
coarse classes group them as filled / outline / texture. A small ResNet learns
them from scratch in a minute or two on a CPU without reaching 100 % at once.

``--variant hard`` makes a set a small ResNet does not saturate: the
labelled shape is small (6 to 10 px across at 32 px, where filled square,
diamond, circle and star start to look alike), one or two shapes of other
classes, 0.5 to 0.9 times its size and in their own classes' colours, stand
beside or over it (the label is the largest shape, which at 32 px is not
always clear), and the pixel noise is 1.5 times as strong. Its images are
drawn from streams of their own, so the default set is unchanged.

The output is a pure function of the arguments: image ``i`` of a split is drawn
from its own random stream seeded by ``(seed, split, i)``. Only numpy and
Pillow are needed.

Examples::

    python tools/misc/make_toy_cifar.py                        # -> data/toy_cifar100
    python tools/misc/make_toy_cifar.py --num-train 500 --num-test 100 --out /tmp/toy
    python tools/misc/make_toy_cifar.py --variant hard --out data/toy_cifar100_hard
"""  # noqa: E501 (usage lines)
import argparse
import colorsys
import math
import os
import os.path as osp
import pickle
import sys
import time

import numpy as np
from PIL import Image, ImageDraw

FINE_CLASSES = ('square', 'circle', 'triangle', 'diamond', 'cross', 'star',
                'ring', 'frame', 'hstripes', 'vstripes')
COARSE_CLASSES = ('filled', 'outline', 'texture')
# others: 0 (filled)
COARSE_OF = {'ring': 1, 'frame': 1, 'hstripes': 2, 'vstripes': 2}
# 'val' (settings are chosen on it) draws the images the 'test' file held
# before the set had a test split of its own; 'test' reports and chooses
# nothing
SPLIT_IDS = {'train': 0, 'val': 1, 'test': 2}
# a variant's images come from streams of its own ('easy': the original
# streams, unchanged)
VARIANTS = ('easy', 'hard')
SIZE = 32
# draw at 128 px, then area-downsample to 32 px (anti-aliased edges)
SUPERSAMPLE = 4
FOLDER = 'cifar-100-python'
# +-32 degrees around the class hue; hues are 36 degrees apart
HUE_JITTER = 0.09


def _class_colour(rng, label: int, avoid, min_dist: float = 110.0):
    """A colour whose hue leans towards the class's own (``HUE_JITTER`` around
    one of 10 evenly spaced hues, so neighbouring classes overlap), at least
    ``min_dist`` from ``avoid`` (the background under the shape; the bound
    loosens when no shade of the hue is that far)."""
    for attempt in range(1000):
        hue = (label / len(FINE_CLASSES) +
               rng.uniform(-HUE_JITTER, HUE_JITTER)) % 1.0
        c = 255 * np.array(
            colorsys.hsv_to_rgb(hue, rng.uniform(0.5, 1.0),
                                rng.uniform(0.45, 1.0)))
        if np.linalg.norm(c - avoid) >= min_dist * 0.9**(attempt // 50):
            break
    return tuple(int(v) for v in c)


def _background(rng):
    """A colour gradient plus pixel noise, [S, S, 3] float."""
    s = SIZE * SUPERSAMPLE
    a, b = rng.integers(0, 256, 3).astype(float), rng.integers(0, 256,
                                                               3).astype(float)
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:s, 0:s] / (s - 1)
    ramp = (np.cos(angle) * xx + np.sin(angle) * yy)
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    return a + (b - a) * ramp[..., None] * 0.6


def _polygon(cx, cy, r, n, phase, inner=None):
    pts = []
    for k in range(n * (2 if inner else 1)):
        rr = r if (inner is None or k % 2 == 0) else r * inner
        t = phase + 2 * math.pi * k / (n * (2 if inner else 1))
        pts.append((cx + rr * math.cos(t), cy + rr * math.sin(t)))
    return pts


def _draw(draw, name, cx, cy, r, colour, rng):
    """Draw class ``name`` centred at (cx, cy) with half-size r
    (supersampled pixels)."""
    # a little rotation, never enough to confuse classes
    jitter = rng.uniform(-0.15, 0.15)
    width = max(2, int(r * 0.35))
    if name == 'square':
        draw.polygon(
            _polygon(cx, cy, r * 1.3, 4, math.pi / 4 + jitter), fill=colour)
    elif name == 'circle':
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif name == 'triangle':
        draw.polygon(
            _polygon(cx, cy, r * 1.2, 3, -math.pi / 2 + jitter), fill=colour)
    elif name == 'diamond':
        draw.polygon(_polygon(cx, cy, r * 1.25, 4, jitter), fill=colour)
    elif name == 'cross':
        draw.rectangle([cx - r, cy - width / 2, cx + r, cy + width / 2],
                       fill=colour)
        draw.rectangle([cx - width / 2, cy - r, cx + width / 2, cy + r],
                       fill=colour)
    elif name == 'star':
        draw.polygon(
            _polygon(cx, cy, r * 1.25, 5, -math.pi / 2 + jitter, inner=0.45),
            fill=colour)
    elif name == 'ring':
        draw.ellipse([cx - r, cy - r, cx + r, cy + r],
                     outline=colour,
                     width=width)
    elif name == 'frame':
        draw.rectangle([cx - r, cy - r, cx + r, cy + r],
                       outline=colour,
                       width=width)
    elif name in ('hstripes', 'vstripes'):
        period = max(4 * SUPERSAMPLE, int(r * rng.uniform(0.45, 0.7)))
        start = cy - r if name == 'hstripes' else cx - r
        for k in range(int(start), int(start + 2 * r), period):
            band = (k, k + period // 2)
            draw.rectangle(
                [cx - r, band[0], cx + r, band[1]]
                if name == 'hstripes' else [band[0], cy - r, band[1], cy + r],
                fill=colour)
    else:  # pragma: no cover
        raise ValueError(name)


def render_image(seed: int, split: str, index: int, variant: str = 'easy'):
    """-> (HWC uint8 RGB image [32, 32, 3], fine label) of image ``index``
    of ``split`` of ``variant``."""
    if variant not in VARIANTS:
        raise ValueError(f'unknown variant {variant!r}; known: {VARIANTS}')
    if variant == 'hard':
        return _render_hard(
            np.random.default_rng(
                [seed, SPLIT_IDS[split], index,
                 VARIANTS.index(variant)]))
    rng = np.random.default_rng([seed, SPLIT_IDS[split], index])
    label = int(rng.integers(len(FINE_CLASSES)))
    bg = _background(rng)
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8))
    s = SIZE * SUPERSAMPLE
    r = rng.uniform(0.22, 0.38) * s
    cx, cy = (rng.uniform(r * 1.3, s - r * 1.3) for _ in range(2))
    _draw(
        ImageDraw.Draw(img), FINE_CLASSES[label], cx, cy, r,
        _class_colour(rng, label, avoid=bg[int(cy), int(cx)]), rng)
    small = np.asarray(img.resize((SIZE, SIZE), Image.BOX), dtype=np.float32)
    small += rng.normal(0, 8.0, small.shape)
    return np.clip(small, 0, 255).astype(np.uint8), label


def _render_hard(rng):
    """The ``hard`` variant's image: a small labelled shape among one or
    two smaller shapes of other classes, each in its own class's colours,
    drawn in random order (a distractor may cover part of it), with noise
    sigma 12."""
    label = int(rng.integers(len(FINE_CLASSES)))
    bg = _background(rng)
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    s = SIZE * SUPERSAMPLE
    r = rng.uniform(0.09, 0.15) * s
    others = [c for c in range(len(FINE_CLASSES)) if c != label]
    shapes = [(label, r)] + [(int(
        rng.choice(others)), r * rng.uniform(0.5, 0.9))
                             for _ in range(int(rng.integers(1, 3)))]
    for k in rng.permutation(len(shapes)):
        cls, rk = shapes[k]
        cx, cy = (rng.uniform(rk * 1.3, s - rk * 1.3) for _ in range(2))
        _draw(draw, FINE_CLASSES[cls], cx, cy, rk,
              _class_colour(rng, cls, avoid=bg[int(cy), int(cx)]), rng)
    small = np.asarray(img.resize((SIZE, SIZE), Image.BOX), dtype=np.float32)
    small += rng.normal(0, 12.0, small.shape)
    return np.clip(small, 0, 255).astype(np.uint8), label


def make_split(seed: int,
               split: str,
               num: int,
               log_every: int = 1000,
               variant: str = 'easy') -> dict:
    """The CIFAR-100 python dict of one split of ``variant``."""
    data = np.empty((num, 3 * SIZE * SIZE), dtype=np.uint8)
    fine = []
    for i in range(num):
        img, label = render_image(seed, split, i, variant)
        # R plane, G plane, B plane (row-major)
        data[i] = img.transpose(2, 0, 1).reshape(-1)
        fine.append(label)
        if log_every and (i + 1) % log_every == 0:
            print(f'  {split}: {i + 1}/{num} images', flush=True)
    return {
        'filenames':
        [f'{FINE_CLASSES[y]}_s_{i:06d}.png' for i, y in enumerate(fine)],
        'batch_label':
        f'{split}ing batch 1 of 1',
        'fine_labels':
        fine,
        'coarse_labels': [COARSE_OF.get(FINE_CLASSES[y], 0) for y in fine],
        'data':
        data,
    }


def make_toy_cifar(out: str = 'data/toy_cifar100',
                   num_train: int = 5000,
                   num_test: int = 1000,
                   seed: int = 0,
                   log_every: int = 1000,
                   num_val: int = None,
                   variant: str = 'easy') -> dict:
    """Write the set; returns ``{split: number of images}``
    (``num_val=None``: as many as ``test``)."""
    if variant not in VARIANTS:
        raise ValueError(f'unknown variant {variant!r}; known: {VARIANTS}')
    folder = osp.join(out, FOLDER)
    os.makedirs(folder, exist_ok=True)
    counts = {}
    num_val = num_test if num_val is None else num_val
    for split, num in (('train', num_train), ('val', num_val), ('test',
                                                                num_test)):
        with open(osp.join(folder, split), 'wb') as f:
            pickle.dump(
                make_split(seed, split, num, log_every, variant),
                f,
                protocol=2)
        counts[split] = num
    meta = {
        'fine_label_names': list(FINE_CLASSES),
        'coarse_label_names': list(COARSE_CLASSES)
    }
    with open(osp.join(folder, 'meta'), 'wb') as f:
        pickle.dump(meta, f, protocol=2)
    return counts


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--out', default='data/toy_cifar100', help='output root (data_root)')
    parser.add_argument('--num-train', type=int, default=5000)
    parser.add_argument(
        '--num-val',
        type=int,
        default=None,
        help='validation images (default: as many as --num-test)')
    parser.add_argument('--num-test', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--variant',
        choices=VARIANTS,
        default='easy',
        help='easy: the original set; hard: small shapes among distractors '
        'of nearly their size (a small ResNet does not saturate it)')
    parser.add_argument(
        '--log-every',
        type=int,
        default=1000,
        help='print progress every N images (0: quiet)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if min(args.num_train, args.num_test,
           args.num_test if args.num_val is None else args.num_val) < 1:
        sys.exit('--num-train, --num-val and --num-test must be positive')
    t0 = time.time()
    print(f'Generating toy CIFAR-100-format set ({args.variant}, '
          f'seed={args.seed}, {SIZE}px) in {args.out}')
    counts = make_toy_cifar(args.out, args.num_train, args.num_test, args.seed,
                            args.log_every, args.num_val, args.variant)
    print(
        f'Done in {time.time() - t0:.1f} s. {len(FINE_CLASSES)} fine classes: '
        f'{", ".join(FINE_CLASSES)}; coarse: {", ".join(COARSE_CLASSES)}')
    for split, n in counts.items():
        print(
            f'  {split:5s}: {n} images in {osp.join(args.out, FOLDER, split)}')
    print(f'  meta : {osp.join(args.out, FOLDER, "meta")}')


if __name__ == '__main__':
    main()
