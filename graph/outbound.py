"""Outbound HTTP: the one way our code fetches other people's URLs (link checker, harvester, webhooks,
mapping checks).

The rules live here so that no fetcher can forget one:
- only http and https;
- never a loopback, private, link-local, multicast or otherwise non-global address — checked for every
  address the host name resolves to, and again at every redirect hop (a public URL redirecting to
  169.254.169.254 is refused) — unless the host or its network is listed in `AMV_OUTBOUND_ALLOW`
  (tests allow their own 127.0.0.1 servers);
- a bounded number of redirects, a time limit for the whole fetch and a size limit on the body.

Known limit: the address is checked before connecting and httpx resolves the name again, so a DNS
server that answers differently within milliseconds (DNS rebinding) could slip past. Deployments that
fetch from hostile sources should also block private ranges at the network layer.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import urllib.robotparser
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from graph.config import Settings

USER_AGENT = "Arbejdsmiljoviden/0.1 (+https://w3id.org/arbejdsmiljoviden/about)"
#: The token robots.txt rules are matched against.
ROBOTS_AGENT = "Arbejdsmiljoviden"
_REDIRECTS = {301, 302, 303, 307, 308}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class OutboundError(Exception):
    """A fetch that did not complete (timeout, connection failure); `reason` says why, readably."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutboundRefused(OutboundError):
    """A fetch our rules forbid: private address, scheme, too many redirects, body too large."""


@dataclass(frozen=True)
class OutboundPolicy:
    #: Host names, addresses or networks (CIDR) that may be fetched although not public.
    allow: tuple[str, ...] = ()
    timeout: float = 10.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    user_agent: str = USER_AGENT

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        return cls(
            allow=settings.outbound_allow, timeout=settings.outbound_timeout, max_bytes=settings.outbound_max_bytes
        )

    def _allowed_networks(self) -> list[IPNetwork]:
        networks = []
        for entry in self.allow:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                continue  # a host name; matched by name in `check`
        return networks

    def check(self, url: str) -> None:
        """Raise OutboundRefused unless `url` may be fetched under this policy."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise OutboundRefused(f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}")
        host = parts.hostname
        if not host:
            raise OutboundRefused("the URL has no host")
        if host.lower() in {a.lower() for a in self.allow}:
            return
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise OutboundRefused(f"bad port in {url!r}") from exc
        for address in resolve(host, port):
            if address.is_global and not address.is_multicast:
                continue
            if any(address in network for network in self._allowed_networks()):
                continue
            raise OutboundRefused(f"{host} resolves to {address}, a private or reserved address")


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundError(f"cannot resolve {host}: {exc.strerror}") from exc
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        # An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        addresses.append(address)
    return addresses


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: httpx.Headers
    content: bytes
    redirects: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        charset = httpx.Response(self.status, headers=self.headers).charset_encoding or "utf-8"
        return self.content.decode(charset, errors="replace")


def fetch(
    url: str,
    *,
    policy: OutboundPolicy,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> FetchResult:
    """Fetch `url` under `policy`, following redirects ourselves so that every hop is checked."""
    started = time.monotonic()
    deadline = started + policy.timeout
    redirects: list[str] = []
    current = url
    request_headers = {"User-Agent": policy.user_agent, **(headers or {})}
    with httpx.Client(follow_redirects=False, timeout=policy.timeout, trust_env=False) as client:
        while True:
            policy.check(current)
            try:
                with client.stream(method, current, headers=request_headers, content=content) as response:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        if len(redirects) >= policy.max_redirects:
                            raise OutboundRefused(f"more than {policy.max_redirects} redirects")
                        redirects.append(current)
                        current = urljoin(current, location)
                        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                            method, content = "GET", None
                        continue
                    body = _read_limited(response, policy.max_bytes, deadline)
                    return FetchResult(
                        url=url,
                        final_url=current,
                        status=response.status_code,
                        headers=response.headers,
                        content=body,
                        redirects=redirects,
                        elapsed=time.monotonic() - started,
                    )
            except httpx.TimeoutException as exc:
                raise OutboundError(f"timed out after {policy.timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise OutboundError(f"{type(exc).__name__}: {exc}") from exc


def _read_limited(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise OutboundRefused(f"the body ({declared} bytes) is larger than the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise OutboundRefused(f"the body is larger than the limit of {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise OutboundError("timed out while reading the body")
        chunks.append(chunk)
    return b"".join(chunks)


class RobotsRules:
    """robots.txt per host, fetched once and kept (RFC 9309: a missing file allows all; a server error
    means we must assume everything is disallowed for now)."""

    def __init__(self, policy: OutboundPolicy, agent: str = ROBOTS_AGENT) -> None:
        self.policy = policy
        self.agent = agent
        self._parsers: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            parser = self._parsers.get(origin)
        if parser is None:
            parser = self._load(origin)
            with self._lock:
                self._parsers[origin] = parser
        return parser.can_fetch(self.agent, url)

    def _load(self, origin: str) -> urllib.robotparser.RobotFileParser:
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            result = fetch(origin + "/robots.txt", policy=self.policy)
        except OutboundRefused:
            raise
        except OutboundError:
            parser.disallow_all = True
            return parser
        if result.status >= 500:
            parser.disallow_all = True
        elif result.status >= 400:
            parser.allow_all = True
        else:
            parser.parse(result.text.splitlines())
        return parser


class HostPacer:
    """At most one request per host every `min_interval` seconds, across threads (politeness)."""

    def __init__(self, min_interval: float = 1.0) -> None:
        self.min_interval = min_interval
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def wait(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.min_interval
        if start > now:
            time.sleep(start - now)
        yield
