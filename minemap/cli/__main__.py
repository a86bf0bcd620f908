"""``python -m minemap.cli``: the same as the ``minemap`` command."""

from minemap.cli.main import main

main()
