"""The ``elanus`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from elanus.errors import ElanusError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="elanus", description="A vector database that speaks Milvus."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="serve the Milvus gRPC protocol over a data directory"
    )
    serve.add_argument(
        "--data-dir", help="data directory (default ./elanus-data; env ELANUS_DATA_DIR)"
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; env ELANUS_HOST)")
    serve.add_argument("--port", type=int, help="gRPC port (default 19530; env ELANUS_PORT)")
    serve.add_argument(
        "--http-port", type=int, help="HTTP port (default 9091; env ELANUS_HTTP_PORT)"
    )
    serve.add_argument("--config", help="YAML config file; keys as in milvus.yaml (proxy.port ...)")
    serve.add_argument("--max-workers", type=int, help="request threads (default 32)")
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    serve.add_argument(
        "--no-fsync",
        action="store_const",
        const=False,
        dest="fsync",
        help="acknowledge writes without fsync of the write-ahead log: faster, and safe "
        "against a process crash but not a power loss (env ELANUS_FSYNC=false)",
    )
    serve.add_argument(
        "--no-rest-on-grpc-port",
        action="store_const",
        const=False,
        dest="rest_on_grpc_port",
        help="serve only gRPC on the gRPC port; REST, /healthz and /metrics stay on the "
        "HTTP port (env ELANUS_REST_ON_GRPC_PORT=false)",
    )
    serve.add_argument(
        "--tls-mode",
        type=int,
        choices=(0, 1, 2),
        help="0 no TLS, 1 one-way, 2 mutual (common.security.tlsMode; env ELANUS_TLS_MODE)",
    )
    serve.add_argument(
        "--tls-cert", help="server certificate, PEM (tls.serverPemPath; env ELANUS_TLS_CERT)"
    )
    serve.add_argument("--tls-key", help="server key, PEM (tls.serverKeyPath; env ELANUS_TLS_KEY)")
    serve.add_argument(
        "--tls-ca",
        help="CA that signs client certificates in mode 2 (tls.caPemPath; env ELANUS_TLS_CA)",
    )
    serve.add_argument(
        "--auth",
        action="store_const",
        const=True,
        dest="authorization_enabled",
        help="require users and passwords and check privileges, as Milvus's "
        "common.security.authorizationEnabled (env ELANUS_AUTH=true); root's first "
        "password is Milvus unless common.security.defaultRootPassword says otherwise",
    )
    _add_storage_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("check", "repair"):
        return _storage_command(args.command, args.data_dir)
    if args.command == "serve":
        from elanus.server import load_config, serve

        try:
            config = load_config(
                args.config,
                overrides={
                    "data_dir": args.data_dir,
                    "host": args.host,
                    "port": args.port,
                    "http_port": args.http_port,
                    "max_workers": args.max_workers,
                    "log_level": args.log_level,
                    "fsync": args.fsync,
                    "authorization_enabled": args.authorization_enabled,
                    "rest_on_grpc_port": args.rest_on_grpc_port,
                    "tls_mode": args.tls_mode,
                    "tls_cert": args.tls_cert,
                    "tls_key": args.tls_key,
                    "tls_ca": args.tls_ca,
                },
            )
            return serve(config)
        except ElanusError as exc:
            print(f"elanus: {exc}", file=sys.stderr)
            return 1
    return 2


def _add_storage_commands(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check",
        help="verify every checksum and cross-reference of a data directory (changes nothing); "
        "exit 1 when damage is found",
    )
    check.add_argument("data_dir", help="the data directory")
    repair = commands.add_parser(
        "repair",
        help="rebuild what can be rebuilt (indexes) and move what cannot to lost+found",
    )
    repair.add_argument("data_dir", help="the data directory")


def _storage_command(command: str, data_dir: str) -> int:
    """``check``: 0 clean, 1 damaged; ``repair``: 0 when nothing is left damaged, else 1;
    2 when the directory cannot be examined (a live process holds it, or it is not one)."""
    import logging

    from elanus.engine.fsck import check_data_dir
    from elanus.engine.repair import repair_data_dir

    logging.basicConfig(level=logging.WARNING, format=f"elanus {command}: %(levelname)s %(message)s")
    try:
        if command == "check":
            report = check_data_dir(data_dir)
        else:
            repaired = repair_data_dir(data_dir)
            for action in repaired.actions:
                print(f"repaired: {action}")
            if not repaired.actions:
                print("repaired: nothing needed repair")
            report = repaired.after
    except ElanusError as exc:
        print(f"elanus {command}: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    return 1 if report.damaged else 0


if __name__ == "__main__":
    sys.exit(main())
