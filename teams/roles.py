"""Team roles and their order. Pure Python: the permission policy's vocabulary."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A member's role; each includes every role below it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    EDITOR = "editor"
    ADMIN = "admin"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: Role) -> bool:
        """True when this role may do everything `other` may."""
        return self.rank >= other.rank

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(role.value, role.value.title()) for role in sorted(cls, key=lambda r: -r.rank)]


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.EDITOR: 2, Role.ADMIN: 3, Role.OWNER: 4}
