import sys

from bench.serialization.benchmark import main

main(sys.argv[1:])
