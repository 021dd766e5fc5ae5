"""`symphony`, the command-line client: a pure REST and WebSocket client (docs/cli.md). It imports
no Django and no Symphony app (an import-linter contract in pyproject.toml says so)."""

__version__ = "0.1.0"
