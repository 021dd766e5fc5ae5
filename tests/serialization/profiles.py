"""Hypothesis settings for the serialization tests.

The property tests carry these settings themselves (``@serialization_settings``)
instead of loading a global profile, so they behave the same whichever
area's conftest loads its profile last. ``HYPOTHESIS_PROFILE=thorough`` runs
1,000 examples per property; the default keeps this directory well under a
minute on 2 cores.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

FAST = settings(max_examples=40, **_COMMON)
THOROUGH = settings(max_examples=1000, **_COMMON)

settings.register_profile("serialization-fast", FAST)
settings.register_profile("serialization-thorough", THOROUGH)

serialization_settings = THOROUGH if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else FAST
