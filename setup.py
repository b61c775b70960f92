"""Builds kvserver's optional native helpers (kvserver/native/build_*.py).

Each build script defines an `ffibuilder`; every one becomes an optional
extension: without a C compiler (or a library one of them needs, such as
liburing) the install still succeeds and kvserver runs its pure-Python
paths or refuses that one feature with a clear message.  Everything else
about the package is in pyproject.toml.
"""

import glob
import importlib
import os
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "kvserver", "native"))

exts = []
for script in sorted(glob.glob(os.path.join(HERE, "kvserver", "native", "build_*.py"))):
    module = importlib.import_module(os.path.basename(script)[:-3])
    ext = module.ffibuilder.distutils_extension(tmpdir=os.path.join("build", "cffi"))
    ext.optional = True
    exts.append(ext)
setup(ext_modules=exts)
