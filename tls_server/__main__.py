"""`python -m tls_server`: point OpenSSL at our group list before OpenSSL loads, then run."""

import os
from pathlib import Path

# Must happen before the first SSL context exists: OpenSSL reads its config file once per process.
os.environ.setdefault("OPENSSL_CONF", str(Path(__file__).with_name("openssl.cnf")))

from tls_server.cli import main

raise SystemExit(main())
