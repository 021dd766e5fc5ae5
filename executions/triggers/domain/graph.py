"""The graph of "run B after A" rules: a new rule may not close a loop.

Pure Python. Nodes are workflow ids, an edge A → B says "when A ends, start B". A rule
is refused when B already reaches A (counting A → A itself). At run time a chain
counter on executions stops whatever slipped past (docs/triggers.md).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable


def loop_closed_by(edges: Iterable[tuple[str, str]], upstream: str, downstream: str) -> list[str] | None:
    """The loop the edge `upstream → downstream` would close, as a path of workflow ids that
    starts and ends with `upstream`; None when it closes none."""
    if upstream == downstream:
        return [upstream, upstream]
    followers: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        followers[source].append(target)
    came_from: dict[str, str] = {downstream: upstream}
    queue = deque([downstream])
    while queue:
        current = queue.popleft()
        for target in followers[current]:
            if target in came_from:
                continue
            came_from[target] = current
            if target == upstream:
                path = [upstream]
                while path[-1] != downstream:
                    path.append(came_from[path[-1]])
                return [upstream, *reversed(path)]
            queue.append(target)
    return None
