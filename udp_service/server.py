"""The transport: a thin asyncio ``DatagramProtocol`` around ``UdpService``.

It only moves bytes: each datagram goes to ``UdpService.handle`` with the monotonic time, and what
comes back is sent. Two things only the transport can see are counted here: a send buffer past its
bound (the datagram is dropped rather than queued without limit) and send errors the kernel
reports. Drops are logged in aggregate every ``log_interval`` seconds, never per datagram.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from dataclasses import dataclass, field
from typing import cast

from udp_service.protocol import Address, Limits, UdpService

log = logging.getLogger("udp_service")


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 9999
    limits: Limits = field(default_factory=Limits)
    max_send_buffer: int = 1 << 20
    log_interval: float = 10.0


class UdpServerProtocol(asyncio.DatagramProtocol):
    def __init__(self, service: UdpService, max_send_buffer: int) -> None:
        self.service = service
        self.max_send_buffer = max_send_buffer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        transport = self.transport
        if transport is None:
            return
        for destination, payload in self.service.handle(data, addr, time.monotonic()):
            if transport.get_write_buffer_size() > self.max_send_buffer:
                self.service.stats.drop("backlog")
                continue
            transport.sendto(payload, destination)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors and the like for an earlier send: count, never crash, never log each.
        self.service.stats.drop("sendfail")


async def _log_drops(service: UdpService, interval: float) -> None:
    last = dict(service.stats.drops)
    last_err = dict(service.stats.errors)
    while True:
        await asyncio.sleep(interval)
        drops = {k: v - last[k] for k, v in service.stats.drops.items() if v != last[k]}
        errors = {k: v - last_err[k] for k, v in service.stats.errors.items() if v != last_err[k]}
        if drops or errors:
            log.info(
                "last %gs: dropped %s; errors %s; joined %d",
                interval,
                " ".join(f"{k}={v}" for k, v in drops.items()) or "none",
                " ".join(f"{k}={v}" for k, v in errors.items()) or "none",
                len(service.members),
            )
        last = dict(service.stats.drops)
        last_err = dict(service.stats.errors)


async def serve(config: ServerConfig, ready: asyncio.Event | None = None) -> UdpService:
    """Run until SIGTERM/SIGINT (or cancellation); return the service for its final counters."""
    loop = asyncio.get_running_loop()
    service = UdpService(config.limits)
    transport, _ = await loop.create_datagram_endpoint(
        lambda: UdpServerProtocol(service, config.max_send_buffer),
        local_addr=(config.host, config.port),
    )
    host, port = transport.get_extra_info("sockname")[:2]
    log.info("listening on %s:%d/udp", host, port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logger = asyncio.create_task(_log_drops(service, config.log_interval))
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
        log.info("shutting down: %s", service.stats.render(len(service.members)))
    finally:
        logger.cancel()
        transport.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return service
