"""Hypothesis profiles for the serialization tests.

The default profile keeps this directory well under a minute on 2 cores;
``HYPOTHESIS_PROFILE=thorough`` runs 1,000 examples per property.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "serialization-fast",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    "thorough" if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else "serialization-fast"
)
