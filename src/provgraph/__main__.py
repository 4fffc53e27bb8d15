from provgraph.cli import main

main()
