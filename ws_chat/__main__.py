"""``python -m ws_chat``: run the WebSocket bridge (see ``ws_chat.cli``)."""

from ws_chat.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
