"""Test configuration shared by the whole suite."""

import os

from hypothesis import HealthCheck, settings

# In CI every hypothesis run is derandomized, so a failure replays exactly on the next run;
# locally the default profile explores new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
