"""Recompute audit hash chains and report the first break of each; exit 1 on any break."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit import domain, selectors
from audit.management.commands._chains import chain_from_argument


def load_anchors(path: str) -> dict[str, domain.ChainPoint]:
    """Anchors printed earlier by `audit_anchor`: one JSON object per line, keyed by chain."""
    anchors: dict[str, domain.ChainPoint] = {}
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    anchors[str(record["chain"])] = domain.ChainPoint(int(record["sequence"]), str(record["hash"]))
                except (ValueError, KeyError, TypeError) as error:
                    raise CommandError(f"{path}:{number}: not an audit_anchor line ({error}).") from None
    except OSError as error:
        raise CommandError(f"Cannot read anchor file {path}: {error.strerror}.") from None
    return anchors


class Command(BaseCommand):
    help = "Verify audit hash chains (all, or one team's); exits 1 when any chain is broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", help="Team slug or id, or 'platform'. Default: every chain.")
        parser.add_argument("--anchor", help="A file written by audit_anchor, to also detect a truncated tail.")

    def handle(self, *args: Any, **options: Any) -> None:
        anchors = load_anchors(options["anchor"]) if options["anchor"] else {}
        chains = [chain_from_argument(options["team"])] if options["team"] else selectors.chains()
        if anchors and not options["team"]:
            known = {chain.key for chain in chains}
            # A chain in the anchor file whose head row is gone entirely was truncated too.
            for key in sorted(set(anchors) - known):
                chains.append(chain_from_argument(key))
        broken = []
        for chain in chains:
            result = selectors.verify(chain, anchor=anchors.get(chain.key))
            name = f"{chain.label} ({chain.key})"
            if result.valid:
                self.stdout.write(f"ok {name}: {result.checked} entries verified")
            else:
                assert result.first_break is not None
                message = (
                    f"BROKEN {name}: first break at seq {result.first_break.sequence}: "
                    f"{result.first_break.reason} ({result.checked} entries verified before it)"
                )
                self.stderr.write(message)
                broken.append(message)
        if broken:
            raise CommandError(f"{len(broken)} audit chain(s) broken.", returncode=1)
