"""Webhooks against a real local receiver (http.server on 127.0.0.1): registration, filters, signed
notifications in order after the partner was down, the outbox across a restart, redelivery."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.accounts import Role
from graph.config import Settings
from graph.serialize import jsonld_context, serialize
from graph.services import Services, open_services
from graph.webhooks import DeliveryStatus, verify
from tests.conftest import bearer, make_settings
from tests.records_util import BASE, iri, problem_turtle, triples

PASSWORD = "en lang og god adgangskode"
NOISE = f"{BASE}vocab/factors/5"  # støj; 5.1 is narrower


class Receiver(ThreadingHTTPServer):
    """A partner's endpoint: answers 500 to the first `failures` requests, then 200, and keeps what it got."""

    daemon_threads = True

    def __init__(self, port: int = 0, failures: int = 0) -> None:
        super().__init__(("127.0.0.1", port), ReceiverHandler)
        self.failures = failures
        self.attempts = 0
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def notifications(self) -> list[dict[str, object]]:
        return [json.loads(body) for _, body in self.received]


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test server
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.attempts += 1
        if self.server.attempts <= self.server.failures:
            self.send_response(500)
        else:
            self.server.received.append((dict(self.headers.items()), body))
            self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=3).start()
    yield server
    server.stop()


def fast(data_dir: Path, **overrides: object) -> Settings:
    """Settings with the local receiver allowed and retries in tens of milliseconds."""
    values: dict[str, object] = {
        "outbound_allow": ("127.0.0.1",),
        "webhook_poll": 0.05,
        "webhook_backoff": 0.05,
        "webhook_backoff_max": 0.2,
        "webhook_max_attempts": 20,
    }
    return make_settings(data_dir, **{**values, **overrides})


def publish(services: Services, turtle: str) -> None:
    outcomes = services.records.load(triples(turtle), agent="test")
    assert all(o.accepted for o in outcomes), [v.describe() for o in outcomes for v in o.violations]


def problem(record_id: str, factor: str, title: str) -> str:
    return problem_turtle(record_id, title=title).replace("amv:factor factor:5 ;", f"amv:factor factor:{factor} ;")


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_partner_down_at_first_gets_every_matching_notification_in_order(data_dir: Path, receiver: Receiver) -> None:
    with TestClient(create_app(fast(data_dir))) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        token = bearer(client, Role.contributor, "partner-a")
        created = client.post(
            "/api/webhooks",
            json={"url": receiver.url, "filter": {"kinds": ["problem"], "concepts": ["factors/5"]}},
            headers=token,
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        assert hook["filter"]["concepts"] == [NOISE] and len(hook["secret"]) >= 32
        assert created.headers["location"] == f"/api/webhooks/{hook['id']}"

        publish(services, problem("wh5aaaa1", "5", "Støj i køkkenet"))
        publish(services, problem("wh5aaaa2", "5.1", "Støj fra maskiner"))  # narrower than the filter's 5
        publish(services, problem("wh1aaaa3", "1.1", "Tunge løft"))  # not about noise: not sent
        publish(services, problem("wh5aaaa1", "5", "Støj i køkkenet, opdateret"))
        services.records.withdraw(iri("problem", "wh5aaaa2"), agent="test", reason="dublet")

        wait_for(lambda: len(receiver.received) == 4)
        time.sleep(0.3)  # nothing more arrives
        assert len(receiver.received) == 4 and receiver.attempts == 7  # 3 refused, then each exactly once
        got = [(n["type"], n["object"].get("@id") or n["object"].get("id")) for n in receiver.notifications()]
        assert got == [
            ("Create", iri("problem", "wh5aaaa1").value),
            ("Create", iri("problem", "wh5aaaa2").value),
            ("Update", iri("problem", "wh5aaaa1").value),
            ("Delete", iri("problem", "wh5aaaa2").value),
        ]
        for headers, body in receiver.received:
            assert verify(hook["secret"], headers, body)
            assert not verify("another secret of some length", headers, body)
            assert headers["Content-Type"].startswith("application/ld+json")
        first, *_, last = receiver.notifications()
        assert first["object"]["title"]["da"] == "Støj i køkkenet"  # the record's JSON-LD
        assert last["object"]["type"] == "Tombstone"
        assert len({n["id"] for n in receiver.notifications()}) == 4

        log = client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=token).json()["deliveries"]
        assert [d["status"] for d in log] == ["delivered"] * 4
        assert log[-1]["attempts"] == 4 and [a["status"] for a in log[-1]["log"]] == [500, 500, 500, 204]


def test_registration_is_checked_and_private(data_dir: Path, receiver: Receiver) -> None:
    with TestClient(create_app(fast(data_dir, webhook_poll=0.0))) as client:
        mine, theirs = bearer(client, Role.contributor, "a"), bearer(client, Role.contributor, "b")
        assert client.post("/api/webhooks", json={"url": receiver.url}).status_code == 401
        bad = client.post(
            "/api/webhooks",
            json={"url": receiver.url, "filter": {"kinds": ["nonsense"], "concepts": ["factors/999"]}},
            headers=mine,
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"filter.kinds", "filter.concepts"}
        assert client.post("/api/webhooks", json={"url": "ftp://x"}, headers=mine).status_code == 422
        assert (
            client.post("/api/webhooks", content=b"{", headers={**mine, "Content-Type": "application/json"}).status_code
            == 400
        )
        short = client.post("/api/webhooks", json={"url": receiver.url, "secret": "short"}, headers=mine)
        assert short.status_code == 422 and short.json()["errors"][0]["field"] == "secret"
        ok = client.post("/api/webhooks", json={"url": receiver.url, "secret": "s" * 20}, headers=mine)
        assert ok.status_code == 201 and ok.json()["secret"] == "s" * 20
        hook_id = ok.json()["id"]
        assert "secret" not in client.get(f"/api/webhooks/{hook_id}", headers=mine).json()
        assert client.get(f"/api/webhooks/{hook_id}", headers=theirs).status_code == 404
        assert client.get("/api/webhooks", headers=theirs).json()["total"] == 0
        assert client.get("/api/webhooks", headers=bearer(client, Role.editor)).json()["total"] == 1
        assert client.delete(f"/api/webhooks/{hook_id}", headers=theirs).status_code == 404
        assert client.delete(f"/api/webhooks/{hook_id}", headers=mine).status_code == 204
        assert client.get(f"/api/webhooks/{hook_id}", headers=mine).status_code == 404
    # Without AMV_OUTBOUND_ALLOW a loopback receiver is refused when registered.
    with TestClient(create_app(make_settings(data_dir))) as client:
        refused = client.post("/api/webhooks", json={"url": receiver.url}, headers=bearer(client, Role.contributor))
        assert refused.status_code == 422 and "private" in refused.json()["errors"][0]["messages"]["en"]


def test_the_outbox_survives_a_restart_and_a_missed_listener(data_dir: Path) -> None:
    port = free_port()  # nobody listens there yet: the partner is down
    settings = fast(data_dir, webhook_poll=0.0)
    with open_services(settings, embedded_only=True) as services:
        hook, secret = services.webhooks.create(
            f"http://127.0.0.1:{port}/hook", services.webhooks.parse_filter({}), owner="p"
        )
        publish(services, problem("whr00001", "5", "Første"))
        # As if the process died right after the commit, before the listener ran:
        services.records.listeners.remove(services.webhooks.notify)
        publish(services, problem("whr00002", "5", "Anden"))
        assert [d.record for d in services.webhooks.deliveries(hook.id)] == [iri("problem", "whr00001").value]
    with open_services(settings, embedded_only=True) as services:  # restarted: the history catches up
        assert services.webhooks.sync() == 1
        pending = services.webhooks.deliveries(hook.id, status=DeliveryStatus.pending)
        assert [d.record for d in reversed(pending)] == [iri("problem", f"whr0000{n}").value for n in (1, 2)]
    receiver = Receiver(port=port).start()
    try:
        with TestClient(create_app(fast(data_dir))):  # the app's delivery worker resumes
            wait_for(lambda: len(receiver.received) == 2)
        titles = [n["object"]["title"]["da"] for n in receiver.notifications()]
        assert titles == ["Første", "Anden"]
        assert all(verify(secret, h, b) for h, b in receiver.received)
    finally:
        receiver.stop()


def test_given_up_deliveries_are_redelivered_from_the_admin_page(data_dir: Path) -> None:
    receiver = Receiver(failures=2).start()
    try:
        with TestClient(create_app(fast(data_dir, webhook_max_attempts=2))) as client:
            services: Services = client.app.state.services  # type: ignore[attr-defined]
            services.accounts.add_user("admin@example.org", "Ada Admin", Role.admin, PASSWORD)
            hook, _ = services.webhooks.create(receiver.url, services.webhooks.parse_filter(None), owner="p")
            publish(services, problem("whf00001", "5", "Opgivet"))
            wait_for(lambda: services.webhooks.deliveries(hook.id)[0].status == DeliveryStatus.failed)
            delivery = services.webhooks.deliveries(hook.id)[0]
            assert delivery.attempts == 2 and receiver.received == []

            assert client.get("/admin/webhooks", follow_redirects=False).status_code == 303  # log in first
            page = client.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            client.post("/login", data={"email": "admin@example.org", "password": PASSWORD, "csrf": csrf})
            overview = client.get("/admin/webhooks")
            assert overview.status_code == 200 and receiver.url in overview.text
            detail = client.get(f"/admin/webhooks/{hook.id}").text
            assert f'data-delivery="{delivery.id}" data-status="failed"' in detail
            csrf = re.search(r'name="csrf" value="([^"]+)"', detail).group(1)  # type: ignore[union-attr]
            action = f"/admin/webhooks/{hook.id}/deliveries/{delivery.id}/redeliver"
            assert client.post(action, data={"csrf": "wrong"}).status_code == 403
            assert client.post(action, data={"csrf": csrf}, follow_redirects=False).status_code == 303
            wait_for(lambda: len(receiver.received) == 1)
            assert services.webhooks.deliveries(hook.id)[0].status == DeliveryStatus.delivered
            assert json.loads(receiver.received[0][1])["object"]["title"]["da"] == "Opgivet"
    finally:
        receiver.stop()


def test_the_notification_carries_the_record_as_json_ld(data_dir: Path) -> None:
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        hook, _ = services.webhooks.create(
            "https://partner.example/hook", services.webhooks.parse_filter(None), owner="p"
        )
        publish(services, problem("whj00001", "5", "Som JSON-LD"))
        delivery = services.webhooks.deliveries(hook.id)[0]
        body = json.loads(services.webhooks.body(delivery.id) or b"")
        assert body["type"] == "Create" and body["id"].startswith("urn:uuid:") and body["id"] == delivery.event
        assert body["@context"][0] == "https://www.w3.org/ns/activitystreams"
        # The object is the record's own JSON-LD (as /id/problem/….jsonld serves it), with our @context by URL.
        assert body["object"]["@context"] == BASE + "context.jsonld"
        own = json.loads(
            serialize(
                services.records.triples(iri("problem", "whj00001")),
                "jsonld",
                services.iris,
                context_url=BASE + "context.jsonld",
            )
        )
        assert body["object"] == own

        def read(document: dict[str, object]) -> set[ox.Triple]:
            return {
                q.triple
                for q in ox.parse(
                    json.dumps({**document, "@context": jsonld_context(BASE)}), format=ox.RdfFormat.JSON_LD
                )
            }

        assert len(read(body["object"])) == len(services.records.triples(iri("problem", "whj00001")))
