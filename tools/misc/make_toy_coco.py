#!/usr/bin/env python
"""Generate a small COCO-format detection / instance-segmentation set of
coloured shapes.

Writes real JPEG images plus COCO ``instances_*.json`` files::

    <out>/annotations/instances_train.json
    <out>/annotations/instances_val.json
    <out>/annotations/instances_test.json
    <out>/train/000001.jpg ...
    <out>/val/000001.jpg ...
    <out>/test/000001.jpg ...

``train`` trains, ``val`` chooses settings (and draws learning curves),
``test`` (as many images as ``val`` unless told otherwise, the same
distribution) reports results and chooses nothing.

Three variants:

* ``easy`` (default, written to ``data/toy_coco``): 3 classes
  (square, circle, triangle); each class has its own colour (red / green /
  blue, jittered), 1-4 non-overlapping medium-to-large shapes on a muted
  textured background. A small detector trained from scratch reaches a high
  bbox mAP within a few hundred iterations.
* ``hard`` (written to ``data/toy_coco_hard``): 6 classes (square, circle,
  triangle, diamond, cross, star) in random colours, so only the shape tells
  the class; 2-6 smaller objects per image (15-46 px at 256 px, ~30 % below 23
  px), mutual occlusion (each object keeps >= 60 % of its area visible),
  distractor blobs / elongated ellipses / scribbles / dots that are not
  objects, thin bars drawn over the objects, a more colourful background and
  more noise. The short schedule that takes the easy set to ~0.89 bbox mAP
  (FCOS-R18 from scratch, 250 iterations) reaches only ~0.2 on this one.
* ``multiscale`` (written to ``data/toy_coco_multiscale``, 160 px by default):
  the hard set's 6 shape-only classes in random colours and its occlusion,
  less clutter (0-2 distractors, 0-1 bars, the easy set's muted background),
  object sizes drawn log-uniformly from 5 % to 60 % of the image side (8-96
  px at 160 px), so every FPN level from stride 8 to 64 has objects to
  detect.
  Larger objects are drawn first, so smaller ones occlude them. The method
  benchmark's detection set: a small detector converges on it in a few
  minutes of CPU (configs/toy/fcos_r18_toy_coco_multiscale.py).

Every object has a COCO ``bbox`` (xywh), ``area``, ``iscrowd=0`` and a polygon
``segmentation`` of its *visible* part: occluded regions are cut out of the
polygon exactly (convex-piece clipping), so Mask R-CNN style configs can train
and evaluate ``segm`` too.

The output is a pure function of the arguments: each image is drawn from its
own random stream seeded by ``(seed, split, index)``, so the same arguments
give byte-identical JSON and JPEG files (for a given Pillow version), and image
``i`` of a split does not depend on how many images the split has. Only numpy
and Pillow are needed.

Examples::

    python tools/misc/make_toy_coco.py                      # easy set -> data/toy_coco
    python tools/misc/make_toy_coco.py --variant hard       # hard set -> data/toy_coco_hard
    python tools/misc/make_toy_coco.py --variant multiscale # -> data/toy_coco_multiscale
    python tools/misc/make_toy_coco.py --num-train 64 --num-val 16 --out /tmp/toy --seed 3
"""  # noqa: E501 (usage lines)
import argparse
import io
import json
import math
import os
import os.path as osp
import sys
import time

import numpy as np
from PIL import Image, ImageDraw

EASY_CLASSES = ('square', 'circle', 'triangle')
HARD_CLASSES = ('square', 'circle', 'triangle', 'diamond', 'cross', 'star')
# Easy variant: class tied to shape AND colour (RGB).
EASY_COLOURS = {
    'square': (215, 45, 40),
    'circle': (40, 175, 60),
    'triangle': (45, 85, 225)
}
# Visualisation palette for the categories (used by the dataset
# configs' metainfo).
PALETTE = [(220, 20, 60), (0, 160, 60), (30, 80, 230), (255, 160, 0),
           (150, 40, 200), (0, 190, 190)]

# 'pretrain': the images the backbone pretraining set is cut from
# (tools/misc/make_toy_pretrain.py), none of the detection splits' images
SPLIT_IDS = {'train': 0, 'val': 1, 'test': 2, 'pretrain': 3}
VARIANTS = ('easy', 'hard', 'multiscale')
# per variant: (default output root, image side, train images, val images,
# classes)
VARIANT_DEFAULTS = {
    'easy': ('data/toy_coco', 256, 500, 100, EASY_CLASSES),
    'hard': ('data/toy_coco_hard', 256, 500, 100, HARD_CLASSES),
    'multiscale': ('data/toy_coco_multiscale', 160, 2000, 300, HARD_CLASSES),
}
# multiscale variant: object side as a fraction of the image side,
# log-uniform
MULTISCALE_RANGE = (0.05, 0.6)
# clutter of the shape-only variants: distractor and bar counts ([low, high)),
# a colourful busy background or the easy set's muted one, pixel noise sd
CLUTTER = {
    'hard': dict(distractors=(1, 5), bars=(0, 3), busy=True, noise=5.0),
    'multiscale': dict(distractors=(0, 3), bars=(0, 2), busy=False, noise=4.0),
}
JPEG_QUALITY = 92
# hard variant: an occluded object keeps at least this much
MIN_VISIBLE_FRACTION = 0.6
# px^2; slivers smaller than this are dropped from a mask
MIN_PIECE_AREA = 0.25


# -----------------------------------------------------------------------------
# Polygon geometry (float (N, 2) arrays of x, y)
# -----------------------------------------------------------------------------
def signed_area(poly):
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(x[:-1] @ y[1:] - x[1:] @ y[:-1] + x[-1] * y[0] -
                       x[0] * y[-1])


def as_positive(poly):
    """Return ``poly`` with positive signed area (interior on the left
    of each edge)."""
    return poly if signed_area(poly) > 0 else poly[::-1].copy()


def clip_halfplane(poly, a, b, keep_inside):
    """Sutherland-Hodgman clip of ``poly`` by the line a->b.

    Inside = left of a->b (cross product >= 0). Works for non-convex subjects
    too (the result may contain zero-width bridges along the line, which do not
    change its area or its rasterisation).
    """
    if len(poly) == 0:
        return poly
    ex, ey = b[0] - a[0], b[1] - a[1]
    d = ex * (poly[:, 1] - a[1]) - ey * (poly[:, 0] - a[0])
    if not keep_inside:
        d = -d
    if (d >= 0).all():
        return poly
    if (d <= 0).all():
        return poly[:0]
    out = []
    n = len(poly)
    for i in range(n):
        j = (i + 1) % n
        di, dj = d[i], d[j]
        if di >= 0:
            out.append(poly[i])
        if (di > 0 > dj) or (di < 0 < dj):
            t = di / (di - dj)
            out.append(poly[i] + t * (poly[j] - poly[i]))
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


def subtract_convex(pieces, convex):
    """``pieces`` minus the convex polygon ``convex`` (positive orientation).

    The complement of a convex polygon is split into disjoint regions, one per
    edge (outside edge i, inside edges 0..i-1), so the output pieces are
    disjoint as well.
    """
    out = []
    m = len(convex)
    for piece in pieces:
        rest = piece
        for i in range(m):
            a, b = convex[i], convex[(i + 1) % m]
            outside = clip_halfplane(rest, a, b, keep_inside=False)
            if len(outside) >= 3 and abs(signed_area(outside)) > 1e-9:
                out.append(outside)
            rest = clip_halfplane(rest, a, b, keep_inside=True)
            if len(rest) < 3:
                break
    return out


def rotate(points, angle, centre):
    c, s = math.cos(angle), math.sin(angle)
    p = points - centre
    return np.stack([c * p[:, 0] - s * p[:, 1], s * p[:, 0] + c * p[:, 1]],
                    1) + centre


def regular_polygon(cx, cy, rx, ry, n, phase=0.0):
    t = phase + 2 * np.pi * np.arange(n) / n
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def make_shape(name, cx, cy, size, rng, variant):
    """Return (outline, convex_pieces) of a shape centred at (cx, cy) with
    extent ``size``.

    ``outline`` is the polygon that is drawn; the union of the positively
    oriented convex ``pieces`` equals the outline (used for occlusion).
    """
    h = size / 2.0
    jitter = variant != 'easy'
    aspect = rng.uniform(0.85, 1.15) if jitter else rng.uniform(0.92, 1.08)
    hx, hy = h * math.sqrt(aspect), h / math.sqrt(aspect)
    centre = np.array([cx, cy])
    if name == 'square':
        poly = np.array([[cx - hx, cy - hy], [cx + hx, cy - hy],
                         [cx + hx, cy + hy], [cx - hx, cy + hy]])
        if jitter:
            poly = rotate(poly, math.radians(rng.uniform(-12, 12)), centre)
        pieces = [poly]
    elif name == 'circle':
        n = int(np.clip(size * 0.6, 16, 40))
        poly = regular_polygon(cx, cy, hx, hy, n)
        pieces = [poly]
    elif name == 'triangle':
        tilt = 0.2 if jitter else 0.1  # radians; the apex points up
        ang = -np.pi / 2 + rng.uniform(-tilt, tilt)
        r = h * 1.12
        poly = regular_polygon(cx, cy, r, r, 3, phase=ang)
        # equilateral triangle with circumradius r: shift so the bbox
        # is roughly centred
        poly = poly - (poly.max(0) + poly.min(0)) / 2 + centre
        pieces = [poly]
    elif name == 'diamond':
        ry = h * rng.uniform(1.0, 1.2)
        rx = h * rng.uniform(0.75, 0.9)
        poly = np.array([[cx, cy - ry], [cx + rx, cy], [cx, cy + ry],
                         [cx - rx, cy]])
        poly = rotate(poly, math.radians(rng.uniform(-10, 10)), centre)
        pieces = [poly]
    elif name == 'cross':
        t = h * rng.uniform(0.28, 0.4)  # half thickness of the arms
        pts = [(-t, -h), (t, -h), (t, -t), (h, -t), (h, t), (t, t), (t, h),
               (-t, h), (-t, t), (-h, t), (-h, -t), (-t, -t)]
        poly = np.array(pts, dtype=np.float64) + centre
        bar1 = np.array([[-h, -t], [h, -t], [h, t], [-h, t]]) + centre
        bar2 = np.array([[-t, -h], [t, -h], [t, h], [-t, h]]) + centre
        ang = math.radians(rng.uniform(-10, 10))
        poly, bar1, bar2 = (rotate(p, ang, centre) for p in (poly, bar1, bar2))
        pieces = [bar1, bar2]
    elif name == 'star':
        phase = -np.pi / 2 + rng.uniform(-0.2, 0.2)  # a tip points up
        outer = h * 1.05
        inner = outer * rng.uniform(0.4, 0.5)
        tips = regular_polygon(cx, cy, outer, outer, 5, phase)
        valleys = regular_polygon(cx, cy, inner, inner, 5, phase + np.pi / 5)
        poly = np.empty((10, 2))
        poly[0::2], poly[1::2] = tips, valleys
        pieces = [valleys]  # inner pentagon
        for k in range(5):
            # tip k sits between valleys k-1 and k
            pieces.append(np.stack([valleys[k - 1], tips[k], valleys[k]]))
    else:
        raise ValueError(name)
    return as_positive(poly), [as_positive(p) for p in pieces]


# -----------------------------------------------------------------------------
# Drawing
# -----------------------------------------------------------------------------
def smooth_field(rng, size, cells, channels):
    """Low-frequency random field in [0, 1], bicubic upsampling of
    a coarse grid."""
    coarse = rng.uniform(
        0, 255, size=(cells, cells, channels)).astype(np.uint8)
    mode = 'RGB' if channels == 3 else 'L'
    img = Image.fromarray(coarse if channels == 3 else coarse[..., 0], mode)
    up = np.asarray(
        img.resize((size, size), Image.BICUBIC), dtype=np.float32) / 255.0
    return up if channels == 3 else up[..., None]


def make_background(rng, size, variant):
    hard = variant == 'hard'
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if hard:
        base = rng.uniform(40, 215, size=3)
        colour_amp = rng.uniform(30, 70)
    else:
        grey = rng.uniform(105, 165)
        base = grey + rng.uniform(-12, 12, size=3)
        colour_amp = rng.uniform(10, 25)
    field = smooth_field(rng, size, int(rng.integers(3, 7)), 3) - 0.5
    if not hard:  # muted: mostly luminance variation
        field = 0.7 * field.mean(-1, keepdims=True) + 0.3 * field
    img = base.astype(np.float32) + np.float32(colour_amp * 2) * field
    gdir = rng.uniform(0, 2 * np.pi)
    img += np.float32(rng.uniform(
        -20, 20)) * (np.cos(gdir) * xx + np.sin(gdir) * yy)[..., None]
    # one texture layer
    kind = int(rng.integers(0, 4))
    amp = rng.uniform(6, 14)
    if kind == 0:  # stripes
        ang = rng.uniform(0, np.pi)
        freq = rng.uniform(6, 30) if hard else rng.uniform(4, 14)
        tex = np.sin(2 * np.pi * freq * (np.cos(ang) * xx + np.sin(ang) * yy) +
                     rng.uniform(0, 6))
    elif kind == 1:  # checker
        n = int(rng.integers(4, 16))
        tex = ((np.floor(xx * n) + np.floor(yy * n)) % 2) * 2 - 1.0
    elif kind == 2:  # mid-frequency blotches
        tex = (smooth_field(rng, size, int(rng.integers(12, 32)), 1)[..., 0] -
               0.5) * 2
    else:  # grain
        tex = rng.standard_normal(size=(size, size), dtype=np.float32) * 0.6
    img += np.float32(amp) * tex[..., None].astype(np.float32)
    return np.clip(img, 0, 255)


def random_colour(rng, avoid, min_dist=80.0):
    """Random saturated-ish RGB colour at least ``min_dist`` away
    from ``avoid``."""
    for _ in range(50):
        c = rng.uniform(0, 255, size=3)
        if np.linalg.norm(c - avoid) >= min_dist:
            return tuple(int(v) for v in c)
    return tuple(int(v) for v in (255 - avoid))


def draw_distractors(draw, rng, size, bg_mean, count=(1, 5)):
    """Clutter drawn *under* the objects: blobs, elongated ellipses,
    scribbles, dots; their number drawn from ``count`` ([low, high))."""
    for _ in range(int(rng.integers(*count))):
        kind = int(rng.integers(0, 4))
        colour = random_colour(rng, bg_mean, 50)
        cx, cy = rng.uniform(0, size, size=2)
        s = rng.uniform(0.03, 0.12) * size
        if kind == 0:  # irregular (non-convex) blob
            n = int(rng.integers(7, 13))
            t = np.sort(rng.uniform(0, 2 * np.pi, n))
            r = s * rng.uniform(0.35, 1.0, n)
            pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
            draw.polygon([tuple(p) for p in pts], fill=colour)
        elif kind == 1:  # elongated ellipse (aspect >= 2.5, not a circle)
            poly = regular_polygon(cx, cy, s, s / rng.uniform(2.5, 5), 24)
            poly = rotate(poly, rng.uniform(0, np.pi), np.array([cx, cy]))
            draw.polygon([tuple(p) for p in poly], fill=colour)
        elif kind == 2:  # scribble
            pts = [(cx, cy)]
            for _ in range(int(rng.integers(3, 7))):
                cx, cy = cx + rng.normal(0, s), cy + rng.normal(0, s)
                pts.append((cx, cy))
            draw.line(pts, fill=colour, width=int(rng.integers(1, 4)))
        else:  # dot cluster
            for _ in range(int(rng.integers(1, 5))):
                dx, dy = rng.normal(0, s, size=2)
                rr = rng.uniform(1, 3.5)
                draw.ellipse(
                    [cx + dx - rr, cy + dy - rr, cx + dx + rr, cy + dy + rr],
                    fill=colour)


def visible_pieces(obj, occluders):
    pieces = [obj['outline']]
    for occ in occluders:
        for convex in occ['pieces']:
            pieces = subtract_convex(pieces, convex)
            if not pieces:
                return []
    return pieces


def pieces_area(pieces):
    return sum(abs(signed_area(p)) for p in pieces)


def bbox_overlap(a, b, margin):
    return not (a[2] + margin <= b[0] or b[2] + margin <= a[0]
                or a[3] + margin <= b[1] or b[3] + margin <= a[1])


def poly_box(poly):
    return (*poly.min(0), *poly.max(0))


def sample_size(rng, size, variant):
    if variant == 'easy':
        return rng.uniform(0.12, 0.32) * size
    if variant == 'multiscale':
        lo, hi = MULTISCALE_RANGE
        return math.exp(rng.uniform(math.log(lo), math.log(hi))) * size
    u = rng.uniform()
    if u < 0.3:
        return rng.uniform(0.06, 0.09) * size  # small: ~15-23 px at 256
    return rng.uniform(0.09, 0.18) * size  # ~23-46 px


def place_objects(rng, size, variant, classes):
    """Return the list of layers (objects and, for ``hard``, occluding bars)
    in draw order."""
    hard = variant != 'easy'
    n_obj = int(rng.integers(2, 7)) if hard else int(rng.integers(1, 5))
    sizes = [None] * n_obj
    if variant == 'multiscale':
        # large first: small objects occlude large ones, never vanish
        # under them
        sizes = sorted((sample_size(rng, size, variant) for _ in range(n_obj)),
                       reverse=True)
    layers = []
    for first_size in sizes:
        label = int(rng.integers(0, len(classes)))
        for _try in range(30):
            s = (
                sample_size(rng, size, variant)
                if first_size is None or _try else first_size)
            cx, cy = rng.uniform(0.5 * s + 2, size - 0.5 * s - 2, size=2)
            outline, pieces = make_shape(classes[label], cx, cy, s, rng,
                                         variant)
            box = poly_box(outline)
            if box[0] < 1 or box[1] < 1 or box[2] > size - 1 or box[
                    3] > size - 1:
                continue
            cand = dict(
                kind='object',
                label=label,
                outline=outline,
                pieces=pieces,
                box=box)
            if not hard:
                if any(bbox_overlap(box, other['box'], 3) for other in layers):
                    continue
            elif not occlusion_ok(layers + [cand]):
                continue
            layers.append(cand)
            break
    if hard:
        # thin bars drawn over the objects
        for _ in range(int(rng.integers(*CLUTTER[variant]['bars']))):
            for _try in range(10):
                length = rng.uniform(0.15, 0.5) * size
                width = rng.uniform(1.0, 3.0)
                cx, cy = rng.uniform(0, size, size=2)
                bar = np.array([[-length / 2, -width / 2],
                                [length / 2, -width / 2],
                                [length / 2, width / 2],
                                [-length / 2, width / 2]])
                bar = rotate(bar + np.array([cx, cy]), rng.uniform(0, np.pi),
                             np.array([cx, cy]))
                cand = dict(
                    kind='bar',
                    outline=as_positive(bar),
                    pieces=[as_positive(bar)],
                    box=poly_box(bar))
                if occlusion_ok(layers + [cand]):
                    layers.append(cand)
                    break
    return layers


def occlusion_ok(layers):
    """Each object keeps >= MIN_VISIBLE_FRACTION of its area visible under
    later layers."""
    for i, obj in enumerate(layers):
        if obj['kind'] != 'object':
            continue
        later = [
            other for other in layers[i + 1:]
            if bbox_overlap(obj['box'], other['box'], 0)
        ]
        if not later:
            continue
        vis = pieces_area(visible_pieces(obj, later))
        if vis < MIN_VISIBLE_FRACTION * abs(signed_area(obj['outline'])):
            return False
    return True


def render_image(seed, split, index, size, variant, classes):
    """Draw one image. Returns (PIL image, list of (label, visible pieces))."""
    rng = np.random.default_rng(
        [seed, SPLIT_IDS[split], index,
         VARIANTS.index(variant)])
    hard = variant != 'easy'
    bg = make_background(rng, size, variant)
    # colour contrast reference
    bg_mean = bg.reshape(-1, 3).mean(0) if hard else None
    img = Image.fromarray(bg.astype(np.uint8), 'RGB')
    draw = ImageDraw.Draw(img)
    if hard:
        draw_distractors(draw, rng, size, bg_mean,
                         CLUTTER[variant]['distractors'])
    layers = place_objects(rng, size, variant, classes)
    for layer in layers:
        if layer['kind'] == 'object':
            if hard:
                colour = random_colour(rng, bg_mean, 120)
            else:
                base = np.array(
                    EASY_COLOURS[classes[layer['label']]], dtype=np.float64)
                colour = tuple(
                    int(v)
                    for v in np.clip(base + rng.uniform(-20, 20, 3), 0, 255))
        else:
            colour = random_colour(rng, bg_mean, 50)
        draw.polygon([tuple(p) for p in layer['outline']], fill=colour)
    arr = np.asarray(img, dtype=np.float32)
    arr += rng.standard_normal(
        size=arr.shape, dtype=np.float32) * (
            CLUTTER[variant]['noise'] if hard else 4.0)
    img = Image.fromarray(
        np.clip(np.rint(arr), 0, 255).astype(np.uint8), 'RGB')

    objects = []
    for i, layer in enumerate(layers):
        if layer['kind'] != 'object':
            continue
        later = [
            other for other in layers[i + 1:]
            if bbox_overlap(layer['box'], other['box'], 0)
        ]
        pieces = visible_pieces(layer, later) if later else [layer['outline']]
        pieces = [p for p in pieces if abs(signed_area(p)) >= MIN_PIECE_AREA]
        if pieces:
            objects.append((layer['label'], pieces))
    return img, objects


def encode_jpeg(img):
    buf = io.BytesIO()
    img.save(buf, format='JPEG', quality=JPEG_QUALITY)
    return buf.getvalue()


def annotation(ann_id, image_id, cat_id, pieces):
    pts = np.concatenate(pieces, 0)
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    seg = [[round(float(v), 2) for v in p.reshape(-1)] for p in pieces]
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=cat_id,
        bbox=[
            round(float(x0), 2),
            round(float(y0), 2),
            round(float(x1 - x0), 2),
            round(float(y1 - y0), 2)
        ],
        area=round(pieces_area(pieces), 2),
        segmentation=seg,
        iscrowd=0)


def make_split(out, split, num, size, seed, variant, classes, log_every=100):
    img_dir = osp.join(out, split)
    os.makedirs(img_dir, exist_ok=True)
    images, anns = [], []
    for idx in range(num):
        img, objects = render_image(seed, split, idx, size, variant, classes)
        image_id = idx + 1
        file_name = f'{image_id:06d}.jpg'
        with open(osp.join(img_dir, file_name), 'wb') as f:
            f.write(encode_jpeg(img))
        images.append(
            dict(id=image_id, file_name=file_name, width=size, height=size))
        for label, pieces in objects:
            anns.append(annotation(len(anns) + 1, image_id, label + 1, pieces))
        if log_every and ((idx + 1) % log_every == 0 or idx + 1 == num):
            print(
                f'  {split}: {idx + 1}/{num} images, {len(anns)} objects',
                flush=True)
    coco = dict(
        info=dict(
            description=f'muse-det toy COCO ({variant})',
            version='1.0',
            year=2024,
            contributor='tools/misc/make_toy_coco.py',
            generator_args=dict(
                variant=variant, seed=seed, size=size, num=num)),
        licenses=[],
        images=images,
        annotations=anns,
        categories=[
            dict(id=i + 1, name=n, supercategory='shape')
            for i, n in enumerate(classes)
        ])
    ann_file = osp.join(out, 'annotations', f'instances_{split}.json')
    os.makedirs(osp.dirname(ann_file), exist_ok=True)
    with open(ann_file, 'w') as f:
        json.dump(coco, f, separators=(',', ':'))
    return ann_file, img_dir, len(images), len(anns)


def make_toy_coco(out=None,
                  num_train=None,
                  num_val=None,
                  size=None,
                  seed=0,
                  variant='easy',
                  log_every=100,
                  num_test=None):
    """Generate the set; return a dict
    ``split -> (ann_file, img_dir, n_images, n_anns)`` for ``train``,
    ``val`` and ``test``. ``None`` arguments take the variant's defaults
    (:data:`VARIANT_DEFAULTS`); ``num_test=None``: as many as ``val``."""
    if variant not in VARIANTS:
        raise ValueError(
            f'unknown variant {variant!r}; choose one of {VARIANTS}')
    defaults = VARIANT_DEFAULTS[variant]
    out, size, num_train, num_val = (
        default if given is None else given
        for given, default in zip((out, size, num_train, num_val), defaults))
    classes = defaults[-1]
    num_test = num_val if num_test is None else num_test
    result = {}
    for split, num in (('train', num_train), ('val', num_val), ('test',
                                                                num_test)):
        result[split] = make_split(out, split, num, size, seed, variant,
                                   classes, log_every)
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate a toy COCO-format '
        'detection/instance-segmentation set of coloured shapes (real JPEGs + '
        'instances_{train,val,test}.json).',
        epilog='Output: OUT/annotations/instances_{train,val,test}.json and '
        'OUT/{train,val,test}/*.jpg. Same arguments -> byte-identical '
        'files.')
    parser.add_argument(
        '--out',
        default=None,
        help='output root (default: data/toy_coco, data/toy_coco_hard, '
        'data/toy_coco_multiscale by variant)')
    parser.add_argument(
        '--variant',
        choices=VARIANTS,
        default='easy',
        help='easy (default): 3 classes, class = shape + colour, 1-4 '
        'medium/large shapes; hard: 6 classes in random colours, smaller '
        'objects, occlusion, clutter; multiscale: as hard, objects of 5-60 '
        '%% of the image side')
    parser.add_argument(
        '--num-train',
        type=int,
        default=None,
        help='number of train images (default: 500; multiscale 2000)')
    parser.add_argument(
        '--num-val',
        type=int,
        default=None,
        help='number of val images (default: 100; multiscale 300)')
    parser.add_argument(
        '--num-test',
        type=int,
        default=None,
        help='number of test images (default: as many as val)')
    parser.add_argument(
        '--size',
        type=int,
        default=None,
        help='image side in pixels, square images (default: 256; '
        'multiscale 160)')
    parser.add_argument(
        '--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument(
        '--log-every',
        type=int,
        default=100,
        help='print progress every N images, 0 for quiet (default: 100)')
    args = parser.parse_args(argv)
    if min(n if n is not None else 0
           for n in (args.num_train, args.num_val, args.num_test)) < 0:
        parser.error('--num-train/--num-val/--num-test must be >= 0')
    if args.size is not None and args.size < 32:
        parser.error('--size must be >= 32')
    return args


def main(argv=None):
    args = parse_args(argv)
    out, size, _, _, classes = VARIANT_DEFAULTS[args.variant]
    out, size = args.out or out, args.size or size
    t0 = time.time()
    print(f'Generating toy COCO ({args.variant}, seed={args.seed}, '
          f'{size}px) in {out}')
    res = make_toy_coco(out, args.num_train, args.num_val, size, args.seed,
                        args.variant, args.log_every, args.num_test)
    print(f'Done in {time.time() - t0:.1f} s. Classes ({len(classes)}): '
          f'{", ".join(classes)}')
    for split, (ann_file, img_dir, n_img, n_ann) in res.items():
        print(
            f'  {split:5s}: {n_img} images in {img_dir}/, {n_ann} annotations '
            f'in {ann_file}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
