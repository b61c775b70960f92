"""Builds kvserver's optional native helpers (kvserver/native/build_native.py).

The extension is optional: without a C compiler the install still
succeeds and kvserver runs its pure-Python paths.  Everything else about
the package is in pyproject.toml.
"""

import os
import sys

from setuptools import setup

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "kvserver", "native"))
from build_native import ffibuilder  # noqa: E402

ext = ffibuilder.distutils_extension(tmpdir=os.path.join("build", "cffi"))
ext.optional = True
setup(ext_modules=[ext])
