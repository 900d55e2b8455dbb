"""``python -m client_runner [run|list|chat|udp]``: every flag also read from the environment.

run   (the default) wait for each selected service, run its checks, print, write reports
list  the services and checks the runner knows, and where it would look for each service
chat  a terminal client of tcp_chat           udp   a prompt that sends datagrams to udp_service
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from . import report as report_files
from .checks import discover
from .checks.base import REGISTRY, Registry
from .output import Console
from .runner import Settings, plan, run
from .targets import TargetError, env_name, parse_address, parse_overrides, resolve

COMMANDS = ("run", "list", "chat", "udp")
INTERACTIVE_PORTS = {"chat": ("tcp_chat", 8888), "udp": ("udp_service", 9999)}


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"client_runner: {name}={text!r} is not a number of seconds") from None
    if value < 0:
        raise SystemExit(f"client_runner: {name} must not be negative")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m client_runner",
        description="Prove the netlab services work, or talk to them by hand.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,list,chat,udp}")
    p_run = sub.add_parser("run", help="run the checks (the default)")
    p_run.add_argument("--only", default=env.get("NETLAB_SERVICES", ""),
                       help="comma-separated services to check (NETLAB_SERVICES; default: all)")
    p_run.add_argument("--target", action="append", default=[], metavar="SERVICE=HOST:PORT",
                       help="where a service is (repeatable; else SERVICE_ADDR, else localhost)")
    p_run.add_argument("--timeout", type=_seconds,
                       default=_env_float(env, "NETLAB_TIMEOUT", 5.0),
                       help="seconds for one network operation (NETLAB_TIMEOUT, 5)")
    p_run.add_argument("--wait", type=_seconds,
                       default=_env_float(env, "NETLAB_WAIT_SECONDS", 20.0),
                       help="seconds a service may take to answer (NETLAB_WAIT_SECONDS, 20)")
    p_run.add_argument("--check-timeout", type=_seconds,
                       default=_env_float(env, "NETLAB_CHECK_TIMEOUT", 60.0),
                       help="seconds one whole check may take (NETLAB_CHECK_TIMEOUT, 60)")
    p_run.add_argument("--report-dir", default=env.get("NETLAB_REPORT_DIR", ""),
                       help="write report.json and junit.xml here (NETLAB_REPORT_DIR)")
    p_run.add_argument("--no-color", action="store_true", help="plain output even on a terminal")
    sub.add_parser("list", help="list services, checks and targets")
    for name, (service, port) in INTERACTIVE_PORTS.items():
        what = "chat in tcp_chat" if name == "chat" else "send datagrams to udp_service"
        p = sub.add_parser(name, help=what)
        p.add_argument("--target", default=env.get(env_name(service), f"localhost:{port}"),
                       metavar="HOST:PORT", help=f"({env_name(service)}, localhost:{port})")
        p.add_argument("--timeout", type=_seconds, default=_env_float(env, "NETLAB_TIMEOUT", 5.0),
                       help="seconds to connect / to wait for a reply (NETLAB_TIMEOUT, 5)")
    return parser


def select(only: str, registry: Registry) -> list[str]:
    wanted = [s.strip() for s in only.split(",") if s.strip()]
    if not wanted or wanted == ["all"]:
        return [s for s in registry.services()
                if s in registry.probes or s in registry.import_errors]
    return list(dict.fromkeys(wanted))


def run_command(
    argv: Sequence[str],
    *,
    registry: Registry | None = None,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The whole CLI without process-wide side effects (tests pass their own registry)."""
    env = os.environ if env is None else env
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    args_in = list(argv)
    if not args_in or args_in[0] not in (*COMMANDS, "-h", "--help"):
        args_in.insert(0, "run")
    try:
        args = build_parser(env).parse_args(args_in)
    except SystemExit as exc:  # argparse and bad env values: usage error
        if isinstance(exc.code, str):
            err.write(exc.code + "\n")
            return 2
        return 2 if exc.code else 0
    if args.command in INTERACTIVE_PORTS:
        return _interactive(args, err)
    if registry is None:
        discover()
        registry = REGISTRY
    if args.command == "list":
        try:
            return _list(registry, env, out)
        except TargetError as exc:
            err.write(f"client_runner: {exc}\n")
            return 2
    services = select(args.only, registry)
    try:
        overrides = parse_overrides(args.target)
        targets = resolve([*registry.services(), *services], registry.default_ports,
                          overrides, env)
    except TargetError as exc:
        err.write(f"client_runner: {exc}\n")
        return 2
    settings = Settings(services, targets, args.timeout, args.wait, args.check_timeout, dict(env))
    rows = plan(settings, registry)
    console = Console(out, rows, color=False if args.no_color else None)
    console.header(services, len(rows), args.timeout, args.wait)
    result = run(settings, registry, on_result=console.result, on_note=console.note)
    if result.interrupted:
        console.note("interrupted: the remaining checks did not run")
    if args.report_dir:  # before the summary, so that `N passed, M failed` is the last line
        folder = Path(args.report_dir)
        try:
            written = report_files.write(result, folder)
        except OSError as exc:
            err.write(f"client_runner: cannot write reports to {folder}: {exc}\n")
            err.flush()
        else:
            console.note("reports: " + ", ".join(str(p) for p in written))
    console.summary(result)
    if result.interrupted:
        return 130
    return 0 if result.ok else 1


def _list(registry: Registry, env: Mapping[str, str], out: TextIO) -> int:
    targets = resolve(registry.services(), registry.default_ports, {}, env)
    for service in registry.services():
        where = targets.get(service, "no address")
        out.write(f"{service}  ({where}; {env_name(service)})\n")
        if service in registry.import_errors:
            out.write(f"  import failed: {registry.import_errors[service].splitlines()[0]}\n")
        for chk in registry.checks_of(service):
            out.write(f"  {chk.name}\n")
    return 0


def _interactive(args: argparse.Namespace, err: TextIO) -> int:
    _, port = INTERACTIVE_PORTS[args.command]
    try:
        target = parse_address(args.target, port)
    except TargetError as exc:
        err.write(f"client_runner: --target {args.target}: {exc}\n")
        return 2
    if args.command == "chat":
        from .chat_client import run_chat

        return run_chat(target.host, target.port, timeout=args.timeout)
    from .udp_client import run_udp

    return run_udp(target.host, target.port, timeout=args.timeout)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # one way out for Ctrl-C and `docker stop`: finish, report, exit


def main(argv: Sequence[str] | None = None) -> int:
    # As PID 1 in a container, SIGTERM has no default action: without a handler, Docker waits.
    signal.signal(signal.SIGTERM, _stop)
    try:
        return run_command(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return 130
