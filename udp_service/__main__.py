"""``python -m udp_service`` runs the server."""

from udp_service.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
