"""E-mail alerts end to end, with a real SMTP server (aiosmtpd) and the real app.

Subscribe on /alerts → the confirmation mail arrives → its link confirms → an item is submitted and
approved through the API → the digest job sends the subscriber a digest with that item (and not an
item about something else) and a working one-click unsubscribe link; after unsubscribing nothing more
arrives; an address that never confirmed gets nothing but the confirmation mail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import RdfFormat
from typer.testing import CliRunner

from api.app import create_app
from graph.accounts import Role
from graph.alerts import Alerts
from graph.cli import app as cli
from graph.rdf import parse_quads
from graph.services import open_services
from tests.conftest import bearer, make_settings
from tests.login_util import csrf_of
from tests.smtp_util import Inbox, Received, smtp  # noqa: F401 - the fixture

SITE = "http://testserver"
FACTORS = "https://w3id.org/arbejdsmiljoviden/vocab/factors/"


@pytest.fixture
def client(data_dir: Path, smtp: Inbox) -> Iterator[TestClient]:  # noqa: F811
    settings = make_settings(data_dir, smtp_host="127.0.0.1", smtp_port=smtp.port, site_url=SITE)
    with TestClient(create_app(settings)) as c:
        yield c


def subscribe(client: TestClient, email: str, **fields: Any) -> Any:
    page = client.get("/alerts", params={k: v for k, v in fields.items() if k not in ("frequency", "mail_lang")})
    assert page.status_code == 200
    data = {"email": email, "csrf": csrf_of(page.text), "frequency": "daily", "mail_lang": "da", **fields}
    return client.post("/alerts", data=data)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == SITE
    return parts.path + (f"?{parts.query}" if parts.query else "")


def confirm(client: TestClient, mail: Received) -> None:
    link = next(u for u in mail.links() if "/alerts/confirm/" in u)
    page = client.get(path_of(link))
    assert page.status_code == 200 and 'method="post"' in page.text
    done = client.post(path_of(link))
    assert done.status_code == 200, done.text
    assert "/alerts/manage/" in done.text  # the page links to managing the subscription it started


def approve(client: TestClient, title: str, factors: list[str]) -> str:
    """Submit an item with a contributor token and approve it as an editor: the real publishing path."""
    record = {
        "type": "item",
        "title": {"da": title},
        "description": {"da": f"Beskrivelse af {title.lower()}."},
        "knowledgeType": "04",
        "factors": factors,
    }
    submitted = client.post("/api/submissions", json=record, headers=bearer(client, Role.contributor, "bidrager"))
    assert submitted.status_code == 201, submitted.text
    decided = client.post(
        f"/api/submissions/{submitted.json()['id']}/approve", headers=bearer(client, Role.editor, "redaktør")
    )
    assert decided.status_code == 200, decided.text
    return submitted.json()["iri"]


def send(client: TestClient) -> Any:
    return Alerts(client.app.state.services).send_digests(force=True)  # type: ignore[attr-defined]


def test_subscribe_confirm_digest_unsubscribe(client: TestClient, smtp: Inbox) -> None:  # noqa: F811
    # Subscribed to "ergonomisk arbejdsmiljø" (factor 1), which takes in its narrower factors.
    answer = subscribe(client, "Arbejdsmiljo@Eksempel.dk", factor="1")
    assert answer.status_code == 200, answer.text
    assert "Tjek din e-mail" in answer.text
    confirmation = smtp.wait_for("arbejdsmiljo@eksempel.dk")
    assert len(confirmation) == 1
    assert confirmation[0].message["Subject"].startswith("Bekræft dit abonnement")
    assert "ergonomisk arbejdsmiljø" in confirmation[0].text
    confirm(client, confirmation[0])

    # A second address subscribes to the same but never confirms.
    assert subscribe(client, "ubekraeftet@eksempel.dk", factor="1").status_code == 200
    assert len(smtp.wait_for("ubekraeftet@eksempel.dk")) == 1

    # Nothing published yet since confirming: no mail at all.
    report = send(client)
    assert (report.sent, report.nothing_new) == (0, 1)
    assert len(smtp.to("arbejdsmiljo@eksempel.dk")) == 1

    lifting = approve(client, "Tjekliste til tunge løft i lageret", ["1.1"])  # narrower than 1
    chemicals = approve(client, "Opløsningsmidler i autolakering", ["3"])  # kemisk: not followed
    report = send(client)
    assert (report.sent, report.items, report.failed) == (1, 1, 0)
    mails = smtp.to("arbejdsmiljo@eksempel.dk")
    assert len(mails) == 2
    digest = mails[1]
    assert digest.message["Subject"] == "Ny viden fra Arbejdsmiljøviden (1)"
    assert digest.message.get_content_type() == "multipart/alternative"
    assert "Tjekliste til tunge løft i lageret" in digest.text and "Tjekliste til tunge løft i lageret" in digest.html
    assert lifting in digest.html.replace(SITE + "/", "https://w3id.org/arbejdsmiljoviden/")
    assert "Opløsningsmidler" not in digest.text and "Opløsningsmidler" not in digest.html
    assert chemicals.rsplit("/", 1)[-1] not in digest.text
    # The item's page link in the mail works.
    item_link = next(u for u in digest.links() if "/id/item/" in u)
    assert client.get(path_of(item_link)).status_code == 200

    # RFC 8058 one-click headers; the manage link works.
    unsubscribe = digest.message["List-Unsubscribe"].strip("<>")
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in digest.text
    manage = next(u for u in digest.links() if "/alerts/manage/" in u)
    assert "arbejdsmiljo@eksempel.dk" in client.get(path_of(manage)).text

    # Nothing is sent twice.
    assert send(client).sent == 0
    assert len(smtp.to("arbejdsmiljo@eksempel.dk")) == 2

    # One-click unsubscribe: a POST from the mail client, without cookies, with the RFC 8058 body.
    fresh = TestClient(client.app)
    done = fresh.post(
        path_of(unsubscribe),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "Du er afmeldt" in done.text
    approve(client, "Løfteteknik for sosu-assistenter", ["1"])
    assert send(client).sent == 0
    assert len(smtp.to("arbejdsmiljo@eksempel.dk")) == 2
    assert client.get(path_of(manage)).status_code == 404

    # The unconfirmed address never got anything but its confirmation.
    assert len(smtp.to("ubekraeftet@eksempel.dk")) == 1


def test_failed_send_is_retried_with_the_same_items(client: TestClient, smtp: Inbox) -> None:  # noqa: F811
    subscribe(client, "stoej@eksempel.dk", factor="5", mail_lang="en")
    confirm(client, smtp.wait_for("stoej@eksempel.dk")[0])
    approve(client, "Støj på byggepladsen", ["5"])
    smtp.refuse = True
    report = send(client)
    assert (report.sent, report.failed) == (0, 1)
    assert len(smtp.to("stoej@eksempel.dk")) == 1
    smtp.refuse = False
    report = send(client)
    assert (report.sent, report.items) == (1, 1)
    digest = smtp.to("stoej@eksempel.dk")[1]
    assert digest.message["Subject"] == "New knowledge from Arbejdsmiljøviden (1)"  # the language they chose
    assert "Støj på byggepladsen" in digest.text


def test_due_follows_the_frequency(client: TestClient, smtp: Inbox) -> None:  # noqa: F811
    subscribe(client, "ugentlig@eksempel.dk", frequency="weekly")
    confirm(client, smtp.wait_for("ugentlig@eksempel.dk")[0])
    alerts = Alerts(client.app.state.services)  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    assert alerts.due(force=False, at=now + timedelta(days=2)) == []
    assert [s.email for s in alerts.due(force=False, at=now + timedelta(days=7))] == ["ugentlig@eksempel.dk"]


def test_bad_input_is_refused_and_changes_nothing(client: TestClient, smtp: Inbox) -> None:  # noqa: F811
    page = client.get("/alerts")
    token = csrf_of(page.text)
    base = {"csrf": token, "frequency": "daily", "mail_lang": "da"}
    assert client.post("/alerts", data={**base, "email": "ikke-en-adresse"}).status_code == 422
    unknown = client.post("/alerts", data={**base, "email": "a@eksempel.dk", "factor": "99.99"})
    assert unknown.status_code == 400 and "99.99" in unknown.text
    assert client.post("/alerts", data={**base, "email": "a@eksempel.dk", "frequency": "hourly"}).status_code == 422
    forged = TestClient(client.app).post("/alerts", data={**base, "email": "a@eksempel.dk"})
    assert forged.status_code == 403
    assert client.get("/alerts?factor=nonsense").status_code == 400
    assert smtp.messages == []
    # A made-up signature or confirmation token opens nothing.
    assert client.get("/alerts/manage/0123456789abcdef/forfalsket").status_code == 404
    assert client.post("/alerts/unsubscribe/0123456789abcdef/forfalsket").status_code == 404
    assert client.post("/alerts/confirm/gaettet-token").status_code == 410


def test_subscribing_is_rate_limited_per_address(client: TestClient, smtp: Inbox) -> None:  # noqa: F811
    for _ in range(3):
        assert subscribe(client, "mange@eksempel.dk").status_code == 200
    refused = subscribe(client, "mange@eksempel.dk")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert len(smtp.to("mange@eksempel.dk")) == 3


def test_prefilled_from_a_feed_link_and_in_english(client: TestClient) -> None:
    concept = client.get("/vocab/factors/5")
    assert 'href="/alerts?factor=5"' in concept.text
    page = client.get("/alerts", params={"factor": "5.1", "knowledgeType": "04", "lang": "en"})
    assert page.status_code == 200
    assert "Get new knowledge by e-mail" in page.text
    assert re.search(r'name="factor" value="5\.1" checked', page.text)
    assert re.search(r'name="knowledgeType" value="04" checked', page.text)


def test_cli_sends_the_digest(data_dir: Path, smtp: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    settings = make_settings(data_dir, smtp_host="127.0.0.1", smtp_port=smtp.port, site_url=SITE)
    with open_services(settings, embedded_only=True) as services:
        alerts = Alerts(services)
        alerts.subscribe("cli@eksempel.dk", [], "weekly", "da", "127.0.0.1")
        token = re.search(r"/alerts/confirm/(\S+)", smtp.to("cli@eksempel.dk")[0].text)
        assert token and alerts.confirm(token.group(1)) is not None
        assert alerts.confirm(token.group(1)) is None  # single use
        turtle = """@prefix amv: <https://w3id.org/arbejdsmiljoviden/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://w3id.org/arbejdsmiljoviden/id/item/c11a0001> a amv:KnowledgeItem ;
    dct:title "Nyt fra kommandolinjen"@da ;
    dct:description "En vidensressource lagt ind fra kommandolinjen."@da ;
    amv:knowledgeType <https://w3id.org/arbejdsmiljoviden/vocab/knowledge-types/04> ;
    amv:factor <https://w3id.org/arbejdsmiljoviden/vocab/factors/2> ."""
        quads = parse_quads(turtle.encode(), RdfFormat.TURTLE, base_iri=services.iris.base, source="test")
        assert all(o.accepted for o in services.records.load((q.triple for q in quads), agent="test"))
    monkeypatch.setenv("AMV_DATA_DIR", str(data_dir))
    monkeypatch.setenv("AMV_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AMV_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("AMV_SITE_URL", SITE)
    due = CliRunner().invoke(cli, ["alerts", "send"])  # weekly, just confirmed: not due yet
    assert due.exit_code == 0, due.output
    assert len(smtp.to("cli@eksempel.dk")) == 1
    result = CliRunner().invoke(cli, ["alerts", "send", "--now"])
    assert result.exit_code == 0, result.output
    assert "digests sent: 1 (1 items)" in result.output
    mails = smtp.to("cli@eksempel.dk")
    assert len(mails) == 2 and "Nyt fra kommandolinjen" in mails[1].text
