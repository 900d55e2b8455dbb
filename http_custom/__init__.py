"""http_custom: the course's ``http.server`` example, done right.

The course subclasses ``BaseHTTPRequestHandler`` under a single-threaded ``TCPServer``, pastes
form input into HTML (an XSS hole), trusts ``Content-Length`` blindly, serves the working
directory for unknown paths and speaks HTTP/1.0 without lengths. This one keeps the standard
library server but puts the HTTP rules (``protocol``) and the pages (``routes``) in pure code,
escapes every echoed value, bounds every size, count and wait, caps concurrent connections, and
speaks HTTP/1.1 keep-alive with exact lengths.
"""
