"""http_proxy: a caching forward proxy, the course's last HTTP challenge done properly.

It teaches what sits between a client and the web: absolute-form requests and ``CONNECT``
tunnels, which headers belong to one hop and which to the whole path, when a shared cache may
store and reuse a response (RFC 9111), and how a proxy avoids becoming an open relay.
Parsing and policy are sans-IO (``messages``, ``cache``, ``rules``, ``access``); ``server`` and
``relay`` move bytes with asyncio and h11.
"""
