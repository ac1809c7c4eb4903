"""`python -m kabargen` runs the command line."""

from .cli import main

main()
