"""Running the web app: `deelwijs serve` and `deelwijs start` (uvicorn, one or more workers).

The socket is bound here, before uvicorn starts, so that a port in use or an address that
cannot be bound is said in one Dutch line (exit 2), and the address is printed only once the
app can be reached. With several workers uvicorn's supervisor starts them on that socket; each
builds the app with `create_app()` from the environment (DEELWIJS_DATABASE_URL and the rest).
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from deelwijs.errors import DeelwijsError

APP = "deelwijs.web:create_app"


class ServeError(DeelwijsError):
    """The app cannot be started; the message says why, in Dutch."""

    code = "cannot_serve"


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ServeError(f"poort {port} op {host} is al in gebruik; kies een andere met "
                             "--port") from None
        raise ServeError(f"kan niet luisteren op {host}:{port}: "
                         f"{exc.strerror or exc}") from None
    return sock


def run(host: str, port: int, workers: int = 1, access_log: bool = False,
        say: Callable[[str], None] = print, sock: socket.socket | None = None) -> None:
    """Serve until stopped (Ctrl+C or SIGTERM), on `sock` when already bound (bind())."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    sock = sock or bind(host, port)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers,
                            log_level="warning", access_log=access_log, server_header=False)
    say(f"Deelwijs draait op {url_of(host, port)} (stoppen: Ctrl+C)")
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
