"""``python -m tcp_chat``: run the chat server (see ``tcp_chat.cli``)."""

from tcp_chat.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
