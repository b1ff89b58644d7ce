"""``python -m remotes ssh|webdav|s3 DIR``: start one real server on loopback until Ctrl-C."""

import sys

from .servers import main

sys.exit(main(sys.argv[1:]))
