"""How `n8n_templates.jsonl` was made (kept so the corpus can be rebuilt and checked).

Source: the `backup_data/workflows/<id>/metadata.json` files of the public
GitHub repository gao51-qw/n8nworkflow.com (commit 2d419ea5), a mirror of the
public template library at https://n8n.io/workflows/. Every entry with a
title is kept — nothing is chosen by how it searches — in id order. The
description is the Markdown turned to plain text (headings, emphasis, links
and images reduced to their words) and cut at a word boundary near
DESCRIPTION_CHARS, about what a marketplace card shows. Each entry's page is
https://n8n.io/workflows/<id>.

    git -C <mirror> ls-tree -r --name-only HEAD backup_data/workflows | grep metadata.json \
        | while read -r path; do mkdir -p "/tmp/n8n/$(dirname "$path")"; git -C <mirror> show "HEAD:$path" > "/tmp/n8n/$path"; done
    python bench/templates/corpus/collect.py /tmp/n8n/backup_data/workflows \
         > bench/templates/corpus/n8n_templates.jsonl
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

DESCRIPTION_CHARS = 240
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"(?m)(^|\s)#{1,6}\s+|[*`>]+|^\s*[-+]\s+|<[^>]+>")
_SPACE = re.compile(r"\s+")


def plain(markdown: str) -> str:
    text = _LINK.sub(r"\1", _IMAGE.sub(" ", html.unescape(markdown or "")))
    text = _MARKUP.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def shortened(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def main(folder: str) -> None:
    entries = []
    for path in Path(folder).glob("*/metadata.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        title = _SPACE.sub(" ", str(data.get("title") or "")).strip()
        if not title:
            continue
        entries.append({"id": int(data["id"]), "name": title,
                        "description": shortened(plain(str(data.get("description") or ""))),
                        "categories": [str(category) for category in data.get("categories") or []]})
    for entry in sorted(entries, key=lambda entry: entry["id"]):
        sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
