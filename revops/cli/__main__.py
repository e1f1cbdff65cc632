"""`python -m revops.cli`: the same as `revops`."""

from revops.cli import main

main()
