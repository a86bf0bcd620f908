"""``python -m minemap.synthetic --out DIR``: write a synthetic scenario."""

from minemap.synthetic.scenario import main

raise SystemExit(main())
