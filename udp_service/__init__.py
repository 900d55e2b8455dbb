"""udp_service: the course's UDP ping/time/broadcast server, done right.

The course's server trusts every datagram: it decodes without checking, remembers every address
forever, broadcasts to anyone who ever spoke and answers at any rate. This one teaches what a UDP
service owes the network instead: bounded input, explicit opt-in (``join`` with expiry) before
anyone receives unsolicited datagrams, capped fan-out, per-source rate limiting, replies never much
larger than requests (no amplification), sequence numbers so clients can measure loss and
reordering, and a sans-IO core (``protocol.py``) that is tested without sockets.
"""
