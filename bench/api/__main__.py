import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")

import django

django.setup()

from bench.api import run  # noqa: E402
from bench.run import format_table  # noqa: E402

print(format_table(run(quick="--quick" in sys.argv)))
