"""Guidance requests ("Spørg centeret") end to end, with a real SMTP server and the real app:
ask on /ask-us (with earlier searches attached) → the editors' inbox → assign → answer by e-mail with
record links (the mail arrives at the SMTP server) → publish the answer as an FAQ item, which is then
on its page, in search and in the feed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient

from graph.accounts import Role
from tests.conftest import make_settings
from tests.login_util import app_with_users, csrf_of, log_in
from tests.smtp_util import Inbox, smtp  # noqa: F401 - the fixture

SITE = "http://testserver"
BASE = "https://w3id.org/arbejdsmiljoviden/"


@pytest.fixture
def client(data_dir: Path, smtp: Inbox) -> Iterator[TestClient]:  # noqa: F811
    settings = make_settings(data_dir, smtp_host="127.0.0.1", smtp_port=smtp.port, site_url=SITE)
    users = [("rut@eksempel.dk", "Rut Redaktør", Role.editor), ("bo@eksempel.dk", "Bo Bidrag", Role.contributor)]
    with app_with_users(settings, users) as c:
        yield c


def ask(client: TestClient, **fields: str | list[str]) -> tuple[int, str]:
    form = client.get("/ask-us")
    assert form.status_code == 200
    answer = client.post("/ask-us", data={"csrf": csrf_of(form.text), **fields})
    return answer.status_code, answer.text


def test_ask_answer_and_publish_faq(client: TestClient, smtp: Inbox) -> None:  # noqa: F811
    asker = TestClient(client.app)
    status, page = ask(
        asker,
        description="Vi leder efter viden om tunge løft for sosu-assistenter i hjemmeplejen.",
        email="Spoerger@Eksempel.dk",
        organisation="Hjemmeplejen Nord",
        role="02",
        industry="Q",
        searches="tunge løft hjemmepleje\nforflytning",
    )
    assert status == 200, page
    reference = re.search(r"<strong>([0-9a-f]{8})</strong>", page)
    assert reference, page
    request_id = reference.group(1)

    # The inbox is for editors only.
    assert client.get("/requests", follow_redirects=False).status_code == 303  # to the login page
    log_in(client, "bo@eksempel.dk")
    assert client.get("/requests").status_code == 403
    log_in(client, "rut@eksempel.dk")
    inbox = client.get("/requests")
    assert inbox.status_code == 200 and f'data-request="{request_id}"' in inbox.text

    detail = client.get(f"/requests/{request_id}")
    assert "Hjemmeplejen Nord" in detail.text
    assert "tunge løft hjemmepleje" in detail.text and "forflytning" in detail.text  # the searches tried
    csrf = csrf_of(detail.text)

    # Assign it (a new request becomes assigned) and add a note.
    done = client.post(
        f"/requests/{request_id}",
        data={"csrf": csrf, "assignee": "rut@eksempel.dk", "note": "Tjek NFA's materiale"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assigned = client.get("/requests?status=assigned")
    assert f'data-request="{request_id}"' in assigned.text
    assert f'data-request="{request_id}"' not in client.get("/requests?status=new").text

    # Answer with links to records picked by search and by path.
    picked = client.get(f"/requests/{request_id}", params={"q": "løft"})
    hit = re.search(r'name="record" value="([^"]+)"', picked.text)
    assert hit, "the search on the request page offers records to link to"
    problem = client.get("/api/search", params={"q": "løft", "type": "problem"}).json()["results"][0]["iri"]
    sent = client.post(
        f"/requests/{request_id}/answer",
        data={
            "csrf": csrf,
            "body": "Hej\n\nHer er den bedste viden om tunge løft i hjemmeplejen.",
            "record": hit.group(1),
            "records": "/" + problem.removeprefix(BASE),
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    mails = smtp.wait_for("spoerger@eksempel.dk")
    assert len(mails) == 1
    mail = mails[0]
    assert mail.message["Subject"] == f"Svar fra Arbejdsmiljøviden ({request_id})"
    assert "Her er den bedste viden om tunge løft" in mail.text
    for iri in (hit.group(1), problem):
        assert SITE + "/" + iri.removeprefix(BASE) in mail.text
        assert SITE + "/" + iri.removeprefix(BASE) in mail.html
    answered = client.get(f"/requests/{request_id}")
    assert "Besvaret" in answered.text and "Svar sendt" in answered.text

    # Publish the answer as an FAQ entry; its form starts from the answer.
    assert "Her er den bedste viden om tunge løft" in answered.text
    published = client.post(
        f"/requests/{request_id}/faq",
        data={
            "csrf": csrf,
            "question": "Hvor finder jeg viden om tunge løft i hjemmeplejen?",
            "question_en": "",
            "answer": "Start med vejledningerne om forflytning og tunge løft.",
            "answer_en": "",
            "factors": "1.1",
            "industries": "Q",
            "records": f"{hit.group(1)}\n{problem}",
        },
        follow_redirects=False,
    )
    assert published.status_code == 303, published.text
    faq = re.search(r"published=([^&]+)", published.headers["location"])
    assert faq
    faq_iri = faq.group(1).replace("%3A", ":").replace("%2F", "/")
    page = client.get("/" + faq_iri.removeprefix(BASE))
    assert page.status_code == 200
    assert "Hvor finder jeg viden om tunge løft i hjemmeplejen?" in page.text
    assert "Spørgsmål og svar" in page.text  # the knowledge type
    assert problem.removeprefix(BASE) in page.text  # linked to the problem it is about

    # Findable in search, by words and by its knowledge type, and in the feed of its factor.
    found = client.get("/api/search", params={"q": "hjemmeplejen tunge løft"}).json()
    assert faq_iri in [r["iri"] for r in found["results"]]
    typed = client.get("/api/search", params={"knowledgeType": "knowledge-types/15"}).json()
    assert [r["iri"] for r in typed["results"]] == [faq_iri]
    feed = feedparser.parse(client.get("/feeds/items.atom", params={"factor": "1"}).content)
    assert faq_iri in [e.id for e in feed.entries]


def test_bad_input_is_refused_and_stores_nothing(client: TestClient) -> None:
    status, page = ask(client, description="kort")
    assert status == 422 and "mindst 10 tegn" in page
    status, _ = ask(client, description="Et spørgsmål om støj på kontoret", email="ikke-en-adresse")
    assert status == 422
    status, _ = ask(client, description="Et spørgsmål om støj på kontoret", industry="ZZ")
    assert status == 422
    forged = TestClient(client.app).post("/ask-us", data={"description": "Et spørgsmål om støj på kontoret"})
    assert forged.status_code == 403
    log_in(client, "rut@eksempel.dk")
    assert "Ingen spørgsmål her." in client.get("/requests").text


def test_answer_needs_an_address_and_faq_needs_a_factor(client: TestClient, smtp: Inbox) -> None:  # noqa: F811
    status, page = ask(TestClient(client.app), description="Hvad ved I om stress blandt lærere?")
    assert status == 200
    request_id = re.search(r"<strong>([0-9a-f]{8})</strong>", page).group(1)  # type: ignore[union-attr]
    log_in(client, "rut@eksempel.dk")
    csrf = csrf_of(client.get(f"/requests/{request_id}").text)
    no_mail = client.post(f"/requests/{request_id}/answer", data={"csrf": csrf, "body": "Se NFA's side."})
    assert no_mail.status_code == 422 and smtp.messages == []
    unknown = client.post(
        f"/requests/{request_id}/answer", data={"csrf": csrf, "body": "x", "records": "/id/item/zzzzzzzz"}
    )
    assert unknown.status_code == 422
    no_factor = client.post(
        f"/requests/{request_id}/faq",
        data={"csrf": csrf, "question": "Stress blandt lærere?", "answer": "Se NFA.", "factors": ""},
    )
    assert no_factor.status_code == 422 and "arbejdsmiljøfaktor" in no_factor.text
    bad_factor = client.post(
        f"/requests/{request_id}/faq",
        data={"csrf": csrf, "question": "Stress blandt lærere?", "answer": "Se NFA.", "factors": "99.99"},
    )
    assert bad_factor.status_code == 422 and "99.99" in bad_factor.text
    assert client.post(f"/requests/{request_id}", data={"status": "closed"}).status_code == 403  # no CSRF token
