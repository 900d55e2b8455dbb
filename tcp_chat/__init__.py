"""tcp_chat: the course's TCP chat room, done right.

The course's server gives every client a thread, calls ``recv(1024)`` and treats whatever comes
back as a message. This one frames lines, validates them, bounds every buffer and queue, and keeps
the protocol (framing, room state, commands) in sans-IO modules so the asyncio server and the
thread-per-client baseline share exactly the same behaviour.
"""
