"""Hypothesis profiles for the graph core: a fast default and a thorough one.

``graph-default`` keeps tests/graph well under a minute on 2 cores;
``graph-thorough`` runs 1,000 examples per property and is chosen with
``HYPOTHESIS_PROFILE=thorough`` (``make test-thorough``). The property tests
take their settings from ``helpers.PROPERTY_SETTINGS`` instead of a globally
loaded profile, so this directory never changes other areas' settings.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "graph-default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "graph-thorough",
    max_examples=1_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
