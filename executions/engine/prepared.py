"""The step's own statements, parsed and planned once per database connection: a server-binding
cursor on Django's connection (`symphony_site.prepared` says how). For the claim's and the
record's CTE statements that planning was a large part of the server's work per node step (a
chain's hop, a two-node execution's steps)."""

from __future__ import annotations

from symphony_site.prepared import EXPLICIT_ONLY, cursor

__all__ = ["EXPLICIT_ONLY", "cursor"]
