"""tls_server: TLS done properly; the course wraps a socket in a certificate it never explains.

The image makes its own private CA and a server certificate at build time, clients verify chain
and hostname instead of switching verification off, the configuration is Mozilla "intermediate"
(TLS 1.2 and 1.3, AEAD ciphers only, X25519/P-256/P-384), and a second port shows mutual TLS.
Inside the tunnel a tiny line protocol (echo, whoami, time, quit) shows what was negotiated.
"""
