"""Serialization tests: Hypothesis profiles live in ``profiles.py`` (see there)."""

from tests.serialization import profiles  # noqa: F401  (registers the profiles)
