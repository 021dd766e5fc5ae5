"""Show a workflow file (any format) or a stored workflow as a readable tree."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workflows.models import Workflow, WorkflowVersion
from workflows.serialization import SerializationError, decode, detect_format, pretty, summary


class Command(BaseCommand):
    help = ("Pretty-print a workflow: a file exported in any format (json, msgpack, zstd, lz4), or a stored "
            "workflow by id (its current version, or --version).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("source", help="A file path, or a workflow id.")
        parser.add_argument("--workflow-version", dest="workflow_version",
                            help="With a workflow id: this version instead of the current one.")
        parser.add_argument("--metadata", action="store_true", help="Also show metadata sections.")
        parser.add_argument("--depth", type=int, default=None,
                            help="Deepest level shown (0 sections, 1 kinds, 2 nodes and edges, 3 ports and config).")
        # --no-color is Django's own option for every command; it is honoured below.

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        color = False if options.get("no_color") else None
        if options["depth"] is not None and options["depth"] < 0:
            raise CommandError("--depth is 0 or more.")
        path = Path(source)
        if path.is_file():
            data = path.read_bytes()
            try:
                document = decode(data)
            except SerializationError as error:
                raise CommandError(f"{source}: cannot read it ({error.code}): {error.message}") from None
            origin = f"{source} · format {detect_format(data)} · {len(data):,} bytes"
        else:
            document, origin = self._stored(source, options.get("workflow_version"))
        self.stdout.write(summary(document))
        self.stdout.write(origin + "\n\n")
        self.stdout.write(pretty(document, depth=options["depth"], show_metadata=options["metadata"], color=color),
                          ending="")

    def _stored(self, source: str, version: str | None) -> tuple[dict[str, Any], str]:
        try:
            workflow_id = uuid.UUID(source)
        except ValueError:
            raise CommandError(f"{source!r} is neither a file nor a workflow id.") from None
        workflow = Workflow.objects.select_related("team", "current_version").filter(pk=workflow_id).first()
        if workflow is None:
            raise CommandError(f"No workflow with id {source}.")
        chosen = (workflow.current_version if not version
                  else WorkflowVersion.objects.filter(workflow=workflow, version=version).first())
        if chosen is None:
            raise CommandError(f"Workflow {workflow.name!r} has no version {version}.")
        return chosen.document, f"team {workflow.team.name} · version {chosen.version} · sha256 {chosen.checksum[:12]}"
