"""Apply retention to one team's audit chain: export the old range, delete it, checkpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit import services
from audit.management.commands._chains import chain_from_argument
from symphony_site.actors import Origin
from symphony_site.instants import NotAMoment, parse_moment


def _parse_before(raw: str) -> dt.datetime:
    try:
        return parse_moment(raw, dates=True)
    except NotAMoment as problem:
        raise CommandError(f"--before {raw!r}: {problem}.") from None


class Command(BaseCommand):
    help = (
        "Prune a team's audit entries older than --before (or its retention period): they are "
        "exported to --export-to (NDJSON) first, then removed, and an audit.pruned checkpoint "
        "entry records the range, count and last hash. Refused under legal hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", required=True, help="Team slug or id.")
        parser.add_argument("--before", help="ISO 8601 date or time; default: now minus the team's retention.")
        parser.add_argument("--export-to", required=True, help="File to write the pruned entries to (NDJSON).")

    def handle(self, *args: Any, **options: Any) -> None:
        chain = chain_from_argument(options["team"])
        if chain.team is None:
            raise CommandError("The platform chain has no retention policy; pass a team.")
        if options["before"]:
            before = _parse_before(options["before"])
        else:
            cutoff = services.retention_cutoff(chain.team)
            if cutoff is None:
                raise CommandError(f"{chain.label} keeps its audit log forever; pass --before to prune anyway.")
            before = cutoff
        try:
            result = services.prune_chain(actor=services.RETENTION_ACTOR, origin=Origin.command(),
                                          team=chain.team,
                                          before=before, export_to=options["export_to"])
        except services.PruneRefused as error:
            raise CommandError(str(error)) from None
        if result.count == 0:
            self.stdout.write(f"Nothing to prune in {chain.label} before {before.isoformat()}.")
            return
        assert result.checkpoint is not None
        self.stdout.write(
            f"Pruned {result.count} entries (#{result.first_sequence} to #{result.last_sequence}) of "
            f"{chain.label} to {options['export_to']}; checkpoint #{result.checkpoint.sequence}."
        )
