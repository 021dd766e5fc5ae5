import sys

from bench.run import format_table
from bench.workflows import run

print(format_table(run(quick="--quick" in sys.argv)))
