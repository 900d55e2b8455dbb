"""``python -m http_proxy``."""

import sys

from http_proxy.cli import main

sys.exit(main())
