"""HTTP content negotiation primitives shared by the web layer and the SPARQL gate."""

from __future__ import annotations


def parse_accept(header: str) -> list[tuple[str, float, int]]:
    """(media range, q, position) for each entry of an Accept header, malformed entries skipped."""
    entries = []
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        entries.append((media, q, position))
    return entries


def match_quality(
    entries: list[tuple[str, float, int]], media_type: str, aliases: frozenset[str] | set[str] = frozenset()
) -> tuple[float, int, int]:
    """How a parsed Accept header rates one type (named by `media_type` or an alias):
    (q, specificity, -position) of the most specific range that covers it, or (0.0, -1, 0) when none does.
    An exact name beats an alias, an alias beats `major/*`, which beats `*/*`."""
    names = {media_type} | set(aliases)
    best: tuple[int, float, int] | None = None  # (specificity, q, position)
    for media, q, position in entries:
        major = media.split("/")[0]
        if media in names:
            specificity = 3 if media == media_type else 2
        elif media == f"{major}/*" and any(n.startswith(major + "/") for n in names):
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q, position)
    if best is None:
        return (0.0, -1, 0)
    return (best[1], best[0], -best[2])
