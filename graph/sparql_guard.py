"""Checks on researchers' SPARQL before it reaches the engine.

Oxigraph performs SERVICE (and LOAD) with outbound HTTP and has no switch to turn that off, so the
public endpoint must refuse them before evaluation. A full parse is the engine's job (its error
messages are what users see); here a small SPARQL lexer finds the keywords that matter, robust
against comments, case, strings, IRIs, prefixed names and `\\u` escapes, and tells the query form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# SPARQL 1.1 §19.2: \u and \U escapes may appear anywhere and are processed before parsing.
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

_TOKEN = re.compile(
    r'(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|\#[^\n\r]*"
    r"|[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+"  # variables
    r"|[A-Za-z_\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*:[^\s{}()\[\];,]*"  # prefixed names
    r"|_:[^\s{}()\[\];,]*"  # blank node labels
    r"|:[^\s{}()\[\];,]*)"  # prefixed names with the empty prefix
    r"|(?P<word>[A-Za-z][A-Za-z_]*)",
    re.DOTALL,
)

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
OUTBOUND_KEYWORDS = {"SERVICE", "LOAD"}


class ForbiddenQuery(ValueError):
    """A query the public endpoint does not run (the message says why, for the user)."""


@dataclass(frozen=True)
class QueryInfo:
    form: str  # SELECT | ASK | CONSTRUCT | DESCRIBE, or "" when the text has no query form
    keywords: frozenset[str]

    @property
    def returns_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


def unescape_codepoints(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _CODEPOINT.sub(replace, text)


def keywords(text: str) -> list[str]:
    """The bare words of a SPARQL text, upper-cased, outside strings, IRIs, comments and names."""
    return [m.group("word").upper() for m in _TOKEN.finditer(unescape_codepoints(text)) if m.group("word")]


def inspect_query(text: str) -> QueryInfo:
    words = keywords(text)
    form = next((w for w in words if w in QUERY_FORMS), "")
    return QueryInfo(form, frozenset(words))


def check_public_query(text: str) -> QueryInfo:
    """Refuse what the public endpoint never runs: outbound access and updates."""
    info = inspect_query(text)
    if "SERVICE" in info.keywords:
        raise ForbiddenQuery(
            "SERVICE (federated query) is not available on the public endpoint: it would make this server "
            "fetch from other servers. Run federated queries from your own SPARQL client instead."
        )
    if not info.form and info.keywords & UPDATE_KEYWORDS:
        raise ForbiddenQuery("This is a SPARQL Update; send updates to /sparql/update with a token.")
    return info
