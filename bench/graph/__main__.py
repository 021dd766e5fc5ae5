import sys

from bench.graph.pipeline import main

main(sys.argv[1:])
