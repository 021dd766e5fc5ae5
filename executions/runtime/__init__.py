"""The node runtime: what each node type does when it runs. Pure Python, no Django.

The engine (`executions.services`, `executions.tasks`) reads a node run from the
database, builds a `NodeContext`, and calls `run_node(context)`; it never knows
what a node type does. Implementations are listed in `executions.runtime.registry`
keyed by the catalog's type names; `executions.runtime.flow` holds the pure rules of
data flow between nodes (edges taken or dead, readiness, inputs, output checks). See
`contract.py` for the types both sides share and docs/executions.md.
"""

from executions.runtime.contract import (
    InputRequired,
    NodeContext,
    NodeFailure,
    NodeOutcome,
    Reporter,
    SilentReporter,
)

__all__ = ["InputRequired", "NodeContext", "NodeFailure", "NodeOutcome", "Reporter", "SilentReporter"]
