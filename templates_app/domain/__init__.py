"""The template marketplace's pure core: parameters, their JSON Schema and
validation, placeholders and substitution, overrides, semantic versions.
No Django imports (tests/test_architecture.py enforces it)."""
