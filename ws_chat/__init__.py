"""ws_chat: a WebSocket bridge that puts browser users into tcp_chat's room.

It teaches the WebSocket handshake (an HTTP upgrade that can be refused with a status code, which
is where Origin checks and connection caps belong), message framing instead of byte streams, close
codes, keepalive pings, and how to bridge two protocols without inventing a third: every text
frame is exactly one line of tcp_chat's line protocol, and every browser user is one ordinary TCP
member of the room, so ``nc`` users and browser users see the same chat.
"""
