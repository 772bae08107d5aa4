#!/usr/bin/env bash
# Set everything up, then run the whole test suite: the C core's own tests under
# AddressSanitizer + UndefinedBehaviorSanitizer (and built with clang where it is installed),
# then the Python suite (pytest). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
make -s -C csrc asan
if command -v clang >/dev/null; then make -s -C csrc clang; fi
python -m pytest -q "$@"
