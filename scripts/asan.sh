#!/usr/bin/env bash
# The C core under AddressSanitizer + UndefinedBehaviorSanitizer: first the C-level tests,
# then the whole Python suite against extensions built with the sanitizers (the interpreter
# itself is not instrumented, so libasan is preloaded and leak detection is left to the C
# tests, where every allocation is the core's own).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
source scripts/setup.sh
make -s -C csrc asan
rm -rf build/asan
VOICEDSP_SANITIZE=address,undefined python setup.py -q build --build-base build/asan >/dev/null 2>&1
LIB=$(ls -d "$ROOT"/build/asan/lib.*)
cd "$LIB"
PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Every Python process of the run (pytest, and the servers and examples the tests start)
# preloads the runtime through this wrapper; a sitecustomize then drops the preload from its
# environment, so the other tools the tests spawn (espeak-ng hangs under it, sox) run without.
SITE="$ROOT/build/asan/site"
mkdir -p "$SITE"
export VOICEDSP_ASAN_PYTHON="$ROOT/build/asan/python"
printf '#!/bin/sh\nLD_PRELOAD="%s" exec "%s" "$@"\n' "$PRELOAD" "$(command -v python)" \
    > "$VOICEDSP_ASAN_PYTHON"
chmod +x "$VOICEDSP_ASAN_PYTHON"
cat > "$SITE/sitecustomize.py" <<'PY'
import os
import sys

os.environ.pop("LD_PRELOAD", None)
sys.executable = os.environ["VOICEDSP_ASAN_PYTHON"]
PY
export PYTHONPATH="$LIB:$SITE"
# make sure the instrumented build is the one under test
ldd "$LIB"/voicedsp/_g711*.so | grep libasan >/dev/null || { echo "asan: extension not instrumented"; exit 1; }
PY="$VOICEDSP_ASAN_PYTHON"
"$PY" -c 'import sys, voicedsp._g711 as m; print("asan: testing", m.__file__)
sys.exit(0 if m.__file__.startswith(sys.argv[1]) else "asan: not the sanitized build")' "$LIB"
"$PY" -m pytest -q -p no:cacheprovider "$ROOT/tests" "$@"
