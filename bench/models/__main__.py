import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")
django.setup()

from bench.models import run  # noqa: E402
from bench.run import format_table  # noqa: E402

print(format_table(run(quick="--quick" in sys.argv[1:])))
