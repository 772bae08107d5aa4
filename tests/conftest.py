"""Test configuration shared by the whole suite."""

import os

from hypothesis import HealthCheck, settings

# In CI every hypothesis run is derandomized, so a failure replays exactly on the next run;
# locally the default profile explores new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Under scripts/asan.sh this process runs with the ASan runtime preloaded. The tools the tests
# spawn (espeak-ng, sox) must not inherit the preload (espeak-ng hangs under it), while Python
# children (voicedsp serve, the examples) need it to load the instrumented extensions: they
# are started through sys.executable, which asan.sh points at a wrapper that preloads it.
if os.environ.get("VOICEDSP_ASAN_PYTHON"):
    import sys

    os.environ.pop("LD_PRELOAD", None)
    sys.executable = os.environ["VOICEDSP_ASAN_PYTHON"]


