import sys

from bench.run import format_table
from bench.web import run

print(format_table(run(quick="--quick" in sys.argv)))
