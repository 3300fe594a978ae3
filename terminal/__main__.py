"""Allow ``python -m terminal``."""

from terminal.cli.main import main

raise SystemExit(main())
