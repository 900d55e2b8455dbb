"""``python -m http_custom``: run the HTTP server (see ``http_custom.cli``)."""

from http_custom.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
