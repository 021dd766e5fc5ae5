"""The demo template catalog: data (`entries.ENTRIES`) built from a few workflow shapes."""

from templates_app.catalog.entries import ENTRIES

__all__ = ["ENTRIES"]
