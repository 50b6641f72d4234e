"""A real HTTP server on 127.0.0.1 for tests of code that fetches URLs (outbound, links, harvesting).

Routes map a path to a function returning (status, headers, body); the server records every request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalSite:
    base: str
    routes: dict[str, Callable[[SeenRequest], Reply]]
    seen: list[SeenRequest] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def local_site(routes: dict[str, Callable[[SeenRequest], Reply]]) -> Iterator[LocalSite]:
    site = LocalSite("", routes)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = SeenRequest(self.command, self.path, dict(self.headers), self.rfile.read(length))
            site.seen.append(request)
            route = site.routes.get(self.path.split("?", 1)[0])
            status, headers, body = route(request) if route else (404, {}, b"not found")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_POST = _answer

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
