"""The outbound rules every fetcher relies on, against a real local HTTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from graph.outbound import HostPacer, OutboundError, OutboundPolicy, OutboundRefused, RobotsRules, fetch
from tests.http_util import LocalSite, local_site

ALLOW_LOCAL = OutboundPolicy(allow=("127.0.0.1",), timeout=3)


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    routes = {
        "/ok": lambda r: (200, {"Content-Type": "text/plain; charset=utf-8"}, "grøn".encode()),
        "/hop": lambda r: (302, {"Location": "/ok"}, b""),
        "/loop": lambda r: (302, {"Location": "/loop"}, b""),
        "/to-metadata": lambda r: (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/to-private": lambda r: (301, {"Location": "http://10.1.2.3/"}, b""),
        "/big": lambda r: (200, {}, b"x" * 10_000),
        "/slow": lambda r: (time.sleep(2), (200, {}, b"late"))[1],
        "/robots.txt": lambda r: (200, {}, b"User-agent: Arbejdsmiljoviden\nDisallow: /private\n"),
        "/see-other": lambda r: (303, {"Location": "/ok"}, b""),
    }
    with local_site(routes) as running:
        yield running


def test_loopback_is_refused_unless_allowed(site: LocalSite) -> None:
    with pytest.raises(OutboundRefused, match="private or reserved"):
        fetch(site.url("/ok"), policy=OutboundPolicy())
    assert fetch(site.url("/ok"), policy=ALLOW_LOCAL).text == "grøn"


def test_localhost_by_name_is_refused() -> None:
    with pytest.raises(OutboundRefused):
        fetch("http://localhost:9/", policy=OutboundPolicy())


@pytest.mark.parametrize("url", ["ftp://example.org/x", "javascript:alert(1)", "file:///etc/passwd", "http:///x"])
def test_only_http_urls_with_a_host(url: str) -> None:
    with pytest.raises(OutboundRefused):
        fetch(url, policy=ALLOW_LOCAL)


def test_redirects_are_followed_and_reported(site: LocalSite) -> None:
    result = fetch(site.url("/hop"), policy=ALLOW_LOCAL)
    assert result.status == 200 and result.final_url == site.url("/ok")
    assert result.redirects == [site.url("/hop")]


def test_a_303_after_post_becomes_get(site: LocalSite) -> None:
    before = len(site.seen)
    fetch(site.url("/see-other"), policy=ALLOW_LOCAL, method="POST", content=b"{}")
    assert [r.method for r in site.seen[before:]] == ["POST", "GET"]


@pytest.mark.parametrize("path", ["/to-metadata", "/to-private"])
def test_a_redirect_into_private_ranges_is_refused(site: LocalSite, path: str) -> None:
    with pytest.raises(OutboundRefused, match="private or reserved"):
        fetch(site.url(path), policy=ALLOW_LOCAL)


def test_redirect_loops_stop(site: LocalSite) -> None:
    with pytest.raises(OutboundRefused, match="redirects"):
        fetch(site.url("/loop"), policy=ALLOW_LOCAL)


def test_bodies_over_the_limit_are_refused(site: LocalSite) -> None:
    small = OutboundPolicy(allow=("127.0.0.1",), max_bytes=1_000)
    with pytest.raises(OutboundRefused, match="larger than the limit"):
        fetch(site.url("/big"), policy=small)


def test_slow_servers_time_out(site: LocalSite) -> None:
    quick = OutboundPolicy(allow=("127.0.0.1",), timeout=0.5)
    started = time.monotonic()
    with pytest.raises(OutboundError, match="timed out"):
        fetch(site.url("/slow"), policy=quick)
    assert time.monotonic() - started < 1.5


def test_robots_txt_is_obeyed(site: LocalSite) -> None:
    robots = RobotsRules(ALLOW_LOCAL)
    assert robots.allowed(site.url("/ok"))
    assert not robots.allowed(site.url("/private/report.pdf"))


def test_unreachable_robots_means_wait() -> None:
    # A host with no server: robots.txt cannot be read, so nothing is fetched there for now.
    robots = RobotsRules(OutboundPolicy(allow=("127.0.0.1",), timeout=1))
    assert not robots.allowed("http://127.0.0.1:9/page")


def test_the_pacer_spaces_requests_to_one_host() -> None:
    pacer = HostPacer(min_interval=0.2)
    started = time.monotonic()
    for _ in range(3):
        with pacer.wait("http://a.example/x"):
            pass
    with pacer.wait("http://b.example/x"):
        pass
    elapsed = time.monotonic() - started
    assert 0.35 < elapsed < 0.8
