"""``python -m hpcfair_vcs`` is the ``hpcfair`` command."""

from .cli import main

main(prog_name="hpcfair")
