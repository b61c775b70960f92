# Sourced by scripts/test and scripts/serve.  Sets $PY to a Python that has
# kvserver installed (editable) with the extras named in $KV_EXTRAS.
#
# Inside an active virtualenv that Python is used as is.  Otherwise a .venv
# is made at the repository root with --system-site-packages, so Debian's
# "externally managed" system Python is never modified and what it already
# has (hiredis, redis-py, pytest...) is reused instead of downloaded again.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# apt_install PKG...: install Debian packages, or say what to install.
apt_install() {
    if [ "$(id -u)" = 0 ]; then
        echo "installing: $*" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
    else
        echo "missing: run 'sudo apt-get install -y $*' first" >&2
        return 1
    fi
}

command -v python3 >/dev/null || apt_install python3 python3-venv || exit 1

if [ -n "${VIRTUAL_ENV:-}" ]; then
    PY=python3
else
    PY="$ROOT/.venv/bin/python"
    if ! "$PY" -m pip --version >/dev/null 2>&1; then
        # Debian's python3 needs python3-venv for venv's ensurepip; a failed
        # attempt leaves a .venv without pip behind, so start afresh.
        rm -rf "$ROOT/.venv"
        if ! python3 -m venv --system-site-packages "$ROOT/.venv" >/dev/null 2>&1; then
            rm -rf "$ROOT/.venv"
            apt_install python3-venv || exit 1
            python3 -m venv --system-site-packages "$ROOT/.venv" || exit 1
        fi
    fi
fi

# kvserver's native helpers (kvserver/native, built with cffi during the
# install) need a C compiler and Python's headers.  Without them the
# install still succeeds and kvserver runs its slower pure-Python paths.
PYINC=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
if ! command -v gcc >/dev/null || [ ! -f "$PYINC/Python.h" ]; then
    apt_install gcc python3-dev ||
        echo "note: no C compiler or Python headers; kvserver will use its pure-Python paths" >&2
fi

# The io_uring engine (io-backend uring, kvserver/native/build_uring.py) is
# compiled against liburing.  It is optional: without the headers that one
# module is skipped, the server offers epoll/poll/select and its io_uring
# tests skip, so a failure here must not stop the install.
if [ ! -f /usr/include/liburing.h ]; then
    apt_install liburing-dev ||
        echo "note: no liburing headers; kvserver will be built without io_uring" >&2
fi

"$PY" -m pip install -q -e "$ROOT${KV_EXTRAS:+[$KV_EXTRAS]}" || exit 1
