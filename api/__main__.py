"""``python -m api``: run the sidecar (see api/main.py)."""

import sys

from api.main import main

sys.exit(main())
