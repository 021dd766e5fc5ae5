from bench.audit import main

main()
