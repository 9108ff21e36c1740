#!/usr/bin/env python
"""Generate the image-classification set that pretrains the toy detectors'
backbone, as ImageNet pretrains a COCO detector's.

Crops of 64 x 64 pixels, at native scale, cut from images of the multi-scale
toy detection domain (``make_toy_coco.py --variant multiscale``: same shapes,
colours, backgrounds, clutter and noise) that belong to none of its splits:
they are rendered from the generator's own ``pretrain`` stream. 19 classes:

* ``<shape>_<size>`` (18): a window around one object whose centre lies in
  the window's middle half, labelled by the object's shape (square, circle,
  triangle, diamond, cross, star) and its size, ``small`` (longer box side
  under 16 px), ``medium`` (16-32 px) or ``large`` (32-56 px; larger objects
  do not fit a window and are not used). Other objects may show at the edges,
  as in a real image.
* ``background``: a window that contains no object's centre.

Written in mmpretrain's ``CustomDataset`` layout, one folder per class::

    <out>/train/<class>/000001.png ...
    <out>/val/<class>/000001.png ...
    <out>/classes.txt

The output is a pure function of the arguments (each source image has its own
random stream, as in make_toy_coco.py). Only numpy and Pillow are needed.

Examples::

    python tools/misc/make_toy_pretrain.py                 # -> data/toy_pretrain
    python tools/misc/make_toy_pretrain.py --per-class 20 --out /tmp/pretrain
"""  # noqa: E501 (usage lines)
import argparse
import os
import os.path as osp
import sys
import time

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from make_toy_coco import HARD_CLASSES, render_image  # noqa: E402

VARIANT = 'multiscale'
IMAGE_SIZE = 160  # the detection set's image side
CROP = 64
# longer box side (px): [0, 16) small, [16, 32) medium, [32, 56] large
SIZE_BINS = (('small', 0, 16), ('medium', 16, 32), ('large', 32, 56))
CLASSES = tuple(f'{shape}_{name}' for shape in HARD_CLASSES
                for name, _, _ in SIZE_BINS) + ('background', )
# the val split's source images are drawn from their own index range
VAL_OFFSET = 1_000_000


def size_bin(side: float):
    for name, lo, hi in SIZE_BINS:
        if lo <= side < hi or (name == 'large' and side == hi):
            return name
    return None


def object_boxes(objects):
    """(label, x1, y1, x2, y2) of each object's visible part."""
    boxes = []
    for label, pieces in objects:
        points = np.concatenate(pieces, axis=0)
        x1, y1 = points.min(0)
        x2, y2 = points.max(0)
        boxes.append((label, x1, y1, x2, y2))
    return boxes


def crops_of_image(img, objects, rng):
    """[(class name, PIL crop)]: one window per usable object and one
    background window where one is found."""
    arr = np.asarray(img)
    boxes = object_boxes(objects)
    centres = [((x1 + x2) / 2, (y1 + y2) / 2) for _, x1, y1, x2, y2 in boxes]
    out = []
    for (label, x1, y1, x2, y2), (cx, cy) in zip(boxes, centres):
        name = size_bin(max(x2 - x1, y2 - y1))
        if name is None:
            continue
        # the object's centre in the window's middle half
        left = cx - CROP / 2 + rng.uniform(-CROP / 4, CROP / 4)
        top = cy - CROP / 2 + rng.uniform(-CROP / 4, CROP / 4)
        left = int(round(min(max(left, 0), IMAGE_SIZE - CROP)))
        top = int(round(min(max(top, 0), IMAGE_SIZE - CROP)))
        if not (left <= cx < left + CROP and top <= cy < top + CROP):
            continue
        out.append((f'{HARD_CLASSES[label]}_{name}', arr[top:top + CROP,
                                                         left:left + CROP]))
    for _ in range(10):
        left, top = rng.integers(0, IMAGE_SIZE - CROP + 1, size=2)
        if not any(left <= cx < left + CROP and top <= cy < top + CROP
                   for cx, cy in centres):
            out.append(('background', arr[top:top + CROP, left:left + CROP]))
            break
    return out


def make_split(out, split, per_class, seed, log_every=0):
    """Render source images until every class has ``per_class`` crops;
    write them; return the number of source images used."""
    from PIL import Image
    counts = {c: 0 for c in CLASSES}
    for c in CLASSES:
        os.makedirs(osp.join(out, split, c), exist_ok=True)
    index = VAL_OFFSET if split == 'val' else 0
    used = 0
    while min(counts.values()) < per_class:
        img, objects = render_image(seed, 'pretrain', index, IMAGE_SIZE,
                                    VARIANT, HARD_CLASSES)
        rng = np.random.default_rng([seed, index, 7])
        index += 1
        used += 1
        for name, crop in crops_of_image(img, objects, rng):
            if counts[name] >= per_class:
                continue
            counts[name] += 1
            Image.fromarray(crop).save(
                osp.join(out, split, name, f'{counts[name]:06d}.png'))
        if log_every and used % log_every == 0:
            print(
                f'  {split}: {used} source images, {sum(counts.values())} '
                'crops',
                flush=True)
        if used > 200 * per_class * len(CLASSES):
            raise RuntimeError(
                f'could not fill the classes of {split}: {counts}')
    return used


def make_toy_pretrain(out='data/toy_pretrain',
                      per_class=1000,
                      val_per_class=100,
                      seed=0,
                      log_every=0):
    """Write the set (``train`` and ``val``) and ``classes.txt``; return
    ``{split: source images used}``."""
    used = {
        'train': make_split(out, 'train', per_class, seed, log_every),
        'val': make_split(out, 'val', val_per_class, seed, log_every)
    }
    with open(osp.join(out, 'classes.txt'), 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')
    return used


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the toy backbone-pretraining set: 64 px crops '
        'of the multi-scale toy domain in 19 classes (shape x size, '
        'background).')
    parser.add_argument('--out', default='data/toy_pretrain')
    parser.add_argument(
        '--per-class',
        type=int,
        default=1000,
        help='training crops per class (default: 1000)')
    parser.add_argument(
        '--val-per-class',
        type=int,
        default=100,
        help='validation crops per class (default: 100)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.per_class, args.val_per_class) < 1:
        parser.error('--per-class and --val-per-class must be >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    used = make_toy_pretrain(
        args.out, args.per_class, args.val_per_class, args.seed, log_every=500)
    print(f'Done in {time.time() - t0:.1f} s: {len(CLASSES)} classes, '
          f'{args.per_class} train / {args.val_per_class} val crops each, '
          f'from {used["train"]} / {used["val"]} source images, in '
          f'{args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
