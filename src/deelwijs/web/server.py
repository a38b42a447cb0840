"""Running the web app: `deelwijs serve` and `deelwijs start` (uvicorn, one or more workers).

The socket is bound here, before uvicorn starts, so that a port in use or an address that
cannot be bound is said in one Dutch line (exit 2), and the address is printed only once the
app can be reached. With several workers uvicorn's supervisor starts them on that socket; each
builds the app with `create_app()` from the environment (DEELWIJS_DATABASE_URL and the rest).

Behind a reverse proxy the visitor's address (the login rate limit per address, the account
events' `remote`) and the scheme come from the proxy's X-Forwarded-For and
X-Forwarded-Proto, believed only from the proxy's own addresses (`proxies`: uvicorn's
forwarded-allow-ips; by default uvicorn's own, FORWARDED_ALLOW_IPS or else 127.0.0.1 and ::1,
which is right for a proxy on the same machine). Of X-Forwarded-For the rightmost address that
is not a trusted proxy counts, so what a visitor writes in that header is not believed.
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


def proxies_of(text: str) -> str:
    """The --proxy value checked: addresses or networks separated by commas, or `*`
    (every address: only when nothing but the proxy can reach the app)."""
    import ipaddress

    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ServeError("--proxy: noem een of meer adressen of netwerken, gescheiden door "
                         "komma's (bijvoorbeeld 127.0.0.1 of 10.0.0.0/24), of *")
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ServeError(f"--proxy: '{item}' is geen IP-adres of netwerk (bijvoorbeeld "
                             "127.0.0.1 of 10.0.0.0/24)") from None
    return ",".join(items)


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
        say: Callable[[str], None] = print, sock: socket.socket | None = None,
        proxies: str | None = None) -> None:
    """Serve until stopped (Ctrl+C or SIGTERM), on `sock` when already bound (bind()).
    `proxies`: whose X-Forwarded-* headers are believed (proxies_of; None: uvicorn's
    default)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    sock = sock or bind(host, port)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers,
                            log_level="warning", access_log=access_log, server_header=False,
                            proxy_headers=True, forwarded_allow_ips=proxies)
    say(f"Deelwijs draait op {url_of(host, port)} (stoppen: Ctrl+C)")
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
