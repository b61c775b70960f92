"""Native helpers built with cffi at install time (see build_native.py).

Each helper has a pure-Python equivalent that is used when the compiled
module is absent (no C compiler when kvserver was installed), so the
server behaves the same either way, only slower.  `lib` is the compiled
library or None, `ffi` its FFI (for passing bytearrays as buffers);
`KVSERVER_NO_NATIVE=1` in the environment forces the pure-Python paths
(the tests run both).
"""

import os

lib = ffi = None
if not os.environ.get("KVSERVER_NO_NATIVE"):
    try:
        from kvserver.native._kvnative import ffi, lib
    except ImportError:
        lib = ffi = None
