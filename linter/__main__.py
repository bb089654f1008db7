from __future__ import annotations

import sys

from pgpreflight.linter.cli import main

sys.exit(main())
