"""The ask box (`/ask`, `/api/ask`): questions answered only from our knowledge, with numbered citations.

Extractive answers quote records tagged with what the question is about (or a narrower concept), in any
language; with a language model configured (a real HTTP server on 127.0.0.1 playing an OpenAI-compatible
endpoint with canned answers), grounded answers pass, invalid citations are removed and reported, a
refusal shows as a refusal and every failure falls back to the extractive answer.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.ask import Asker, load_embedder, sentences
from graph.llm import LlmConfig
from tests.conftest import make_settings
from tests.records_util import BASE

FACTOR = BASE + "vocab/factors/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
NOISE_QUESTION = "Hvad kan man gøre ved støj på byggepladser?"


# -- a stand-in for the language model: a real HTTP server with canned chat completions -------------------


@dataclass
class FakeLlm:
    reply: str = ""
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLlm]:
    fake = FakeLlm()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            time.sleep(fake.delay)
            answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": fake.reply}}]}
            data = json.dumps(answer).encode() if fake.status == 200 else b'{"error": "overloaded"}'
            try:
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the app gave up waiting, as it should
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake(llm: FakeLlm) -> FakeLlm:
    llm.reply, llm.status, llm.delay = "", 200, 0.0
    llm.requests.clear()
    return llm


def private_copy(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("ask") / "data"
    shutil.copytree(initialised_dir, data_dir)
    return data_dir


@pytest.fixture(scope="module")
def client(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with no language model: extractive answers."""
    with TestClient(create_app(make_settings(private_copy(initialised_dir, tmp_path_factory)))) as c:
        yield c


@pytest.fixture(scope="module")
def llm_client(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory, llm: FakeLlm) -> Iterator[TestClient]:
    """The app with the fake language model configured (on its own copy: one process opens a store)."""
    data = private_copy(initialised_dir, tmp_path_factory)
    settings = replace(
        make_settings(data), llm_url=llm.url, llm_model="fake-model", llm_api_key="sk-test", llm_timeout=0.5
    )
    with TestClient(create_app(settings)) as c:
        yield c


def ask(client: TestClient, q: str, lang: str = "da") -> dict[str, Any]:
    response = client.get("/api/ask", params={"q": q, "lang": lang})
    assert response.status_code == 200, response.text
    return response.json()


def tagged(client: TestClient, concept: str) -> set[str]:
    """Records tagged with a concept or a narrower one, asked of the store."""
    query = f"""SELECT DISTINCT ?record WHERE {{
        ?record ?p ?tag . ?tag <{SKOS}broader>* <{concept}> . FILTER(STRSTARTS(STR(?record), "{BASE}id/")) }}"""
    return {r["record"].value for r in client.app.state.services.store.select(query)}  # type: ignore[attr-defined]


def citations(text: str) -> list[int]:
    return [int(n) for group in re.findall(r"\[([\d,; ]+)\]", text) for n in re.findall(r"\d+", group)]


def assert_citations_point_to_sources(answer: dict[str, Any]) -> None:
    numbers = {s["n"] for s in answer["sources"]}
    cited = citations(answer["answer"])
    assert cited, answer["answer"]
    assert set(cited) <= numbers
    for part in answer["parts"]:
        assert set(citations(part["text"])) == set(part["citations"]) <= numbers


# -- extractive answers -----------------------------------------------------------------------------


def test_a_question_about_noise_cites_records_tagged_with_noise_or_narrower(client: TestClient) -> None:
    answer = ask(client, NOISE_QUESTION)
    assert answer["mode"] == "extractive"
    noise = tagged(client, FACTOR + "5.1")
    assert len(answer["sources"]) >= 3
    assert {s["iri"] for s in answer["sources"]} <= noise
    assert FACTOR + "5.1" in {c["iri"] for c in answer["concepts"]}
    # The quoted sentences are the records' own words, and they are about noise.
    for source in answer["sources"]:
        assert source["passages"] and all(p in answer["answer"] for p in source["passages"])
        assert any(re.search(r"støj|larm|lyd|hør", p, re.I) for p in source["passages"]), source
    # It asks what to do: solutions to the problem are among the sources and listed as such.
    assert any(s["type"] == "solution" for s in answer["sources"])
    assert answer["solutions"] and {s["iri"] for s in answer["solutions"]} <= noise
    assert_citations_point_to_sources(answer)


def test_an_english_question_cites_danish_records_through_their_concepts(client: TestClient) -> None:
    answer = ask(client, "How can noise in day care centres be reduced?", "en")
    assert answer["mode"] == "extractive"
    noise = tagged(client, FACTOR + "5.1")
    danish_only = 0
    for source in answer["sources"]:
        assert source["iri"] in noise
        if not re.search(r"\b(noise|the|and)\b", " ".join(source["passages"])):
            danish_only += 1
    assert danish_only >= 2, answer["sources"]
    assert {"noise"} <= {c["label"] for c in answer["concepts"]}
    assert_citations_point_to_sources(answer)


@pytest.mark.parametrize(
    ("q", "lang"),
    [("What is EGA?", "en"), ("Hvordan forebygger man kvartsstøv?", "da"), ("What can be done about bullying?", "en")],
)
def test_every_citation_points_to_a_returned_source(client: TestClient, q: str, lang: str) -> None:
    answer = ask(client, q, lang)
    assert answer["mode"] == "extractive" and answer["sources"]
    assert_citations_point_to_sources(answer)
    assert [s["n"] for s in answer["sources"]] == list(range(1, len(answer["sources"]) + 1))


@pytest.mark.parametrize("q", ["Hvad er hovedstaden i Frankrig?", "Hvad koster en ny bil?", "hvad og hvordan?"])
def test_a_question_we_know_nothing_about_says_so(client: TestClient, q: str) -> None:
    answer = ask(client, q)
    assert answer["mode"] == "nothing"
    assert answer["sources"] == [] and answer["answer"] == ""
    page = client.get("/ask", params={"q": q, "lang": "da"})
    assert page.status_code == 200
    assert "Det kan vi ikke svare på ud fra vores viden" in page.text
    assert 'class="cite"' not in page.text


def test_the_page_works_without_javascript_in_both_languages(client: TestClient) -> None:
    empty = client.get("/ask")
    assert (
        empty.status_code == 200 and '<label for="ask-q">' in empty.text and 'action="/ask" method="get"' in empty.text
    )
    for lang, heading in (("da", "Kilder"), ("en", "Sources")):
        page = client.get("/ask", params={"q": NOISE_QUESTION, "lang": lang})
        assert page.status_code == 200
        assert f'<html lang="{lang}">' in page.text and heading in page.text
        cited = set(re.findall(r'href="#source-(\d+)"', page.text))
        assert cited and cited <= set(re.findall(r'id="source-(\d+)"', page.text))
        assert 'type="application/json" href="/api/ask?' in page.text
        assert 'style="' not in page.text and " onclick=" not in page.text


def test_questions_are_escaped_and_bad_input_gets_a_clear_4xx(client: TestClient) -> None:
    page = client.get("/ask", params={"q": "<script>alert(1)</script> støj"})
    assert page.status_code == 200 and "<script>alert(1)" not in page.text
    assert client.get("/api/ask", params={"q": ""}).json() == {"error": "Skriv et spørgsmål."}
    too_long = client.get("/api/ask", params={"q": "støj " * 80, "lang": "en"})
    assert too_long.status_code == 400 and "300" in too_long.json()["error"]
    assert client.get("/api/ask", params={"q": "støj", "lang": "xx"}).status_code == 400
    assert client.get("/ask", params={"q": "x" * 301}).status_code == 400
    assert "/api/ask" in client.get("/openapi.json").json()["paths"]


# -- with a language model ----------------------------------------------------------------------------


def test_a_grounded_answer_with_valid_citations_passes_through(llm_client: TestClient, fake: FakeLlm) -> None:
    fake.reply = "Støjen dæmpes bedst ved kilden, fx ved indkapsling [2].\n\nHøreværn er kun et supplement [2][3]."
    answer = ask(llm_client, NOISE_QUESTION)
    assert answer["mode"] == "generated"
    assert answer["answer"] == fake.reply and answer["invalidCitations"] == []
    assert [p["citations"] for p in answer["parts"]] == [[2], [2, 3]]
    assert {s["n"] for s in answer["sources"] if s["cited"]} == {2, 3}
    # What the model was given: our numbered sources and the question, and nothing else to go on.
    (request,) = fake.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "fake-model"
    prompt = request["body"]["messages"][-1]["content"]
    assert NOISE_QUESTION in prompt
    for source in answer["sources"]:
        assert f"[{source['n']}] {source['title']}" in prompt
    page = llm_client.get("/ask", params={"q": NOISE_QUESTION, "lang": "da"})
    assert "skrevet af en sprogmodel" in page.text and 'href="#source-3"' in page.text


def test_citations_of_sources_that_do_not_exist_are_removed_and_reported(llm_client: TestClient, fake: FakeLlm) -> None:
    fake.reply = "Brug høreværn [2][9]. Dæmp støjen ved kilden [7] [1]."
    answer = ask(llm_client, NOISE_QUESTION)
    assert answer["mode"] == "generated"
    assert answer["invalidCitations"] == [7, 9]
    assert "[7]" not in answer["answer"] and "[9]" not in answer["answer"]
    assert "Brug høreværn [2]." in answer["answer"]
    assert_citations_point_to_sources(answer)
    assert "Fjernede henvisninger" in llm_client.get("/ask", params={"q": NOISE_QUESTION, "lang": "da"}).text


def test_an_answer_citing_nothing_we_gave_is_not_shown(llm_client: TestClient, fake: FakeLlm) -> None:
    fake.reply = "Man skal altid bruge høreværn [12]."
    answer = ask(llm_client, NOISE_QUESTION)
    assert answer["mode"] == "extractive" and answer["notice"] == "llm_ungrounded"
    assert "altid" not in answer["answer"]
    assert_citations_point_to_sources(answer)


def test_the_models_refusal_is_shown_as_a_refusal(llm_client: TestClient, fake: FakeLlm) -> None:
    fake.reply = "NOT_IN_SOURCES"
    answer = ask(llm_client, NOISE_QUESTION)
    assert answer["mode"] == "refused" and answer["answer"] == ""
    assert answer["sources"] and not any(s["cited"] for s in answer["sources"])
    page = llm_client.get("/ask", params={"q": NOISE_QUESTION, "lang": "da"})
    assert "Det kan vi ikke svare på ud fra vores viden" in page.text and 'class="cite"' not in page.text
    en = llm_client.get("/ask", params={"q": NOISE_QUESTION, "lang": "en"})
    assert "We cannot answer that from our knowledge" in en.text


@pytest.mark.parametrize("failure", ["error status", "timeout"])
def test_a_failing_model_falls_back_to_the_extractive_answer(
    llm_client: TestClient, fake: FakeLlm, failure: str
) -> None:
    if failure == "error status":
        fake.status = 503
    else:
        fake.delay, fake.reply = 1.5, "Too late [1]."  # the app waits 0.5 s
    started = time.monotonic()
    answer = ask(llm_client, NOISE_QUESTION)
    assert time.monotonic() - started < 10
    assert answer["mode"] == "extractive" and answer["notice"] == "llm_unavailable"
    assert_citations_point_to_sources(answer)
    if failure == "error status":
        assert "Sprogmodellen svarede ikke" in llm_client.get("/ask", params={"q": NOISE_QUESTION, "lang": "da"}).text


def test_a_model_server_that_is_down_gives_the_extractive_answer(client: TestClient) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    services = client.app.state.services  # type: ignore[attr-defined]
    asker = Asker(services.search, llm=LlmConfig(f"http://127.0.0.1:{port}/v1", "m", timeout=2))
    answer = asker.ask(NOISE_QUESTION)
    assert answer.mode == "extractive" and answer.notice == "llm_unavailable"
    assert answer.sources and answer.parts


def test_the_model_is_not_asked_when_we_have_nothing(llm_client: TestClient, fake: FakeLlm) -> None:
    fake.reply = "Paris [1]."
    assert ask(llm_client, "Hvad er hovedstaden i Frankrig?")["mode"] == "nothing"
    assert fake.requests == []


# -- sentences and the optional embedding model ---------------------------------------------------------


def test_texts_are_split_into_sentences_without_breaking_at_abbreviations() -> None:
    text = "Den omfatter bl.a. høj arbejdsmængde. Grænsen er 87 dB(A) pr. dag. Arbejdsgiveren skal måle. (demoeksempel)"
    assert sentences(text, "da") == (
        "Den omfatter bl.a. høj arbejdsmængde.",
        "Grænsen er 87 dB(A) pr. dag.",
        "Arbejdsgiveren skal måle. (demoeksempel)",
    )


def test_without_the_ask_extra_there_are_no_embeddings_and_answers_still_come() -> None:
    assert load_embedder("") is None and load_embedder("none") is None
    try:
        import fastembed  # noqa: F401
    except ImportError:
        assert load_embedder("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2") is None
    else:  # pragma: no cover - only where the extra is installed; models are never downloaded in tests
        pytest.skip("the ask extra is installed here")


class KeywordEmbedder:
    """Stands in for a sentence-embedding model (none can be downloaded here): texts about hearing
    protection point one way, everything else another."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.fail:
            raise RuntimeError("model crashed")
        return [[1.0, 0.0] if re.search(r"høreværn|beskytte|protect", t, re.I) else [0.0, 1.0] for t in texts]


def test_semantic_similarity_steers_which_sentences_are_quoted(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    question = "How do I protect workers from noise?"
    plain = Asker(services.search).ask(question, "en")
    embedder = KeywordEmbedder()
    semantic = Asker(services.search, embedder=embedder).ask(question, "en")
    assert embedder.calls == 1 and semantic.semantic and not plain.semantic
    assert re.search(r"høreværn", " ".join(semantic.sources[0].passages))
    assert [s.iri for s in semantic.sources] != [s.iri for s in plain.sources]
    broken = Asker(services.search, embedder=KeywordEmbedder(fail=True)).ask(question, "en")
    assert [s.iri for s in broken.sources] == [s.iri for s in plain.sources]
