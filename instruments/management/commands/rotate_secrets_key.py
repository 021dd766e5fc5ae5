"""Re-encrypt every team secret under the first of SECRETS_KEYS.

Key rotation: put the new key first in SECRETS_KEYS (keep the old one after it),
restart, run this command, then remove the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from instruments import services
from symphony_site.actors import Actor, Origin


class Command(BaseCommand):
    help = "Re-encrypt every team secret under the first key of SECRETS_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.secrets_reencrypt(actor=Actor.system("rotate_secrets_key"),
                                           origin=Origin.command())
        self.stdout.write(f"Re-encrypted {count} secret{'s' if count != 1 else ''} under the "
                          "first key of SECRETS_KEYS; the other keys can now be removed.")
