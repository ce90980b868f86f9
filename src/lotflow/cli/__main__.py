"""``python -m lotflow.cli``: the same as the ``lotflow`` command."""

from lotflow.cli import main

main()
