#!/usr/bin/env bash
# Set up everything voicedsp needs on a fresh Debian/Ubuntu machine, idempotently:
# system packages (only those missing), a virtualenv in .venv with the build, test and
# benchmark dependencies, and voicedsp itself installed in editable mode (compiled in place).
# Other scripts source this file; run it directly to set up only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(build-essential pkg-config libopus-dev espeak-ng sox
              asterisk-core-sounds-en asterisk-core-sounds-en-wav)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing system packages: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --disable-pip-version-check setuptools wheel "Cython>=3.0"
python -m pip install -q --disable-pip-version-check --no-build-isolation -e ".[test,bench,platform]"
echo "setup: ready ($(python -c 'import voicedsp; print("voicedsp", voicedsp.__version__)'))"
