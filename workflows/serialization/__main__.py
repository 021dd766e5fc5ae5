"""Command line: show, convert and check serialized workflows.

    python -m workflows.serialization show FILE [--depth N] [--metadata] [--color | --no-color]
    python -m workflows.serialization convert INPUT OUTPUT --format zstd
    python -m workflows.serialization schema

The Django management command that shows stored workflows calls ``show`` too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workflows.serialization.container import decode, encode
from workflows.serialization.errors import SerializationError
from workflows.serialization.pretty import show
from workflows.serialization.schema import schema_text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workflows.serialization")
    commands = parser.add_subparsers(dest="command", required=True)
    show_command = commands.add_parser("show", help="print a readable view of a workflow file")
    show_command.add_argument("file", type=Path)
    show_command.add_argument("--depth", type=int, default=None)
    show_command.add_argument("--indent", type=int, default=2)
    show_command.add_argument("--metadata", action="store_true", help="include metadata")
    show_command.add_argument("--color", action=argparse.BooleanOptionalAction, default=None)
    convert_command = commands.add_parser("convert", help="re-encode a workflow file")
    convert_command.add_argument("input", type=Path)
    convert_command.add_argument("output", type=Path)
    convert_command.add_argument(
        "--format", default="json", help="json, msgpack, zstd, lz4, json+zstd…"
    )
    convert_command.add_argument("--pretty", action="store_true", help="indented JSON")
    commands.add_parser("schema", help="print the JSON Schema")
    return parser


def main(arguments: list[str]) -> int:
    options = _parser().parse_args(arguments)
    try:
        if options.command == "show":
            sys.stdout.write(
                show(
                    options.file.read_bytes(),
                    color=options.color,
                    depth=options.depth,
                    indent=options.indent,
                    show_metadata=options.metadata,
                )
            )
        elif options.command == "convert":
            envelope = decode(options.input.read_bytes())
            options.output.write_bytes(encode(envelope, options.format, pretty=options.pretty))
        else:
            sys.stdout.write(schema_text())
    except SerializationError as error:
        print(f"error ({error.code}): {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
