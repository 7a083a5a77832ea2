"""``python -m accord`` runs the command line."""

from accord.cli.app import main

main()
