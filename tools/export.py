"""Export a MUSE (distiller) checkpoint as a plain checkpoint of the wrapped model.

    python tools/export.py CHECKPOINT OUT.pth

The result has no adapter/critic/teacher/peer keys and no ``architecture.``
prefix: mmdet's (or mmpretrain's) own tools and Runner load it with the base
detector (classifier) config and give the same metrics.
"""  # noqa: E501 (usage lines)
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from muse_det.errors import is_muse_det_error  # noqa: E402
from muse_det.models.distillers.export import export_checkpoint  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        'checkpoint', help='distiller checkpoint (from tools/train.py)')
    parser.add_argument('out', help='path of the plain checkpoint to write')
    args = parser.parse_args(argv)
    try:
        summary = export_checkpoint(args.checkpoint, args.out)
    except Exception as e:
        if not is_muse_det_error(e):
            raise
        raise SystemExit(f'export failed: {e}')
    print(f'wrote {args.out}: {summary["kept"]} tensors of the plain model; '
          f'dropped {summary["dropped"]} distillation-only tensors (adapters, '
          'critics, teachers, peers)')


if __name__ == '__main__':
    main()
