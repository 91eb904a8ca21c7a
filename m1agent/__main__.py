"""``python -m m1agent`` runs the command line."""

from m1agent.cli import main

main()
