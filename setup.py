"""muse-det: MUSE feature distillation for MMDetection detectors and
mmpretrain classifiers."""
import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version():
    ns = {}
    with open(osp.join(HERE, 'muse_det', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


def read_requirements(name):
    with open(osp.join(HERE, 'requirements', name)) as f:
        return [
            ln.split('#')[0].strip() for ln in f if ln.split('#')[0].strip()
        ]


def add_mim_extension():
    """Ship ``configs/`` (and tools) as ``muse_det/.mim`` so ``muse_det::``
    config paths resolve from any directory, the way ``mmdet::`` does. Editable
    installs get symlinks, so edits to ``configs/`` are seen at once; other
    installs get copies."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif any(
            a in sys.argv
            for a in ('sdist', 'bdist_wheel', 'install', 'build', 'build_py')):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(HERE, 'muse_det', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        src = osp.join(HERE, name)
        dst = osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='muse-det',
        version=read_version(),
        description='MUSE feature distillation (mutual information + '
        'self-information) for MMDetection detectors and mmpretrain '
        'classifiers',
        long_description=open(osp.join(HERE, 'README.md')).read()
        if osp.exists(osp.join(HERE, 'README.md')) else '',
        long_description_content_type='text/markdown',
        license='Apache-2.0',
        python_requires='>=3.9',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
        include_package_data=True,
        package_data={
            'muse_det': [
                '.mim/model-index.yml', '.mim/configs/*/metafile.yml',
                '.mim/configs/*/*.py', '.mim/configs/*/*/*.py',
                '.mim/configs/*/*/*/*.py', '.mim/tools/*', '.mim/tools/*/*'
            ]
        },
        # ranges, not pins: installing into an existing MMDetection
        # environment keeps its torch and mmcv (requirements/runtime.txt)
        install_requires=read_requirements('runtime.txt') +
        read_requirements('mminstall.txt'),
        extras_require={
            'cls': read_requirements('cls.txt'),
            'mim': read_requirements('mminstall.txt'),
            'tests': read_requirements('tests.txt'),
            'optional': read_requirements('optional.txt'),
        },
        zip_safe=False,
    )
