"""``python -m minemap.synthetic --out DIR``: write a synthetic scenario."""

from minemap.synthetic.command import main

raise SystemExit(main())
