"""The sitemap (sitemaps.org protocol): every public page, with the date it last changed where known.

Above 50,000 URLs the sitemap becomes a sitemap index pointing to numbered parts of at most 50,000
URLs each, as the protocol requires. URLs are absolute on the host that serves the sitemap (the
protocol allows no other host), built from the `origin` the caller gives.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from graph.services import Services

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000

#: W3C Datetime, as the protocol accepts it in <lastmod> (YYYY, YYYY-MM, YYYY-MM-DD, or with a time).
_W3C_DATETIME = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$")


@dataclass(frozen=True)
class Entry:
    path: str  # on this site, starting with "/"
    lastmod: str | None = None


def entries(services: Services, pages: Sequence[str]) -> list[Entry]:
    """The fixed `pages` (paths) first, then every scheme, concept and record, in IRI order."""
    base = services.iris.base
    found = [Entry(p) for p in pages]
    seen = set(pages)
    for row in services.store.select(services.queries("sitemap-resources", base=base)):
        path = "/" + row["resource"].value[len(base) :]
        if path in seen:
            continue
        seen.add(path)
        modified = row["modified"].value if "modified" in row else ""
        found.append(Entry(path, modified if _W3C_DATETIME.match(modified) else None))
    return found


def parts(count: int) -> int:
    """How many sitemap files `count` URLs need."""
    return max(1, -(-count // MAX_URLS))


def urlset(found: Sequence[Entry], origin: str) -> bytes:
    root = ET.Element("urlset", xmlns=NAMESPACE)
    for entry in found:
        url = ET.SubElement(root, "url")
        ET.SubElement(url, "loc").text = origin.rstrip("/") + quote(entry.path, safe="/:@!$&'()*+,;=-._~%")
        if entry.lastmod:
            ET.SubElement(url, "lastmod").text = entry.lastmod
    return _document(root)


def index(part_urls: Sequence[str], lastmod: str | None = None) -> bytes:
    root = ET.Element("sitemapindex", xmlns=NAMESPACE)
    for loc in part_urls:
        sitemap = ET.SubElement(root, "sitemap")
        ET.SubElement(sitemap, "loc").text = loc
        if lastmod and _W3C_DATETIME.match(lastmod):
            ET.SubElement(sitemap, "lastmod").text = lastmod
    return _document(root)


def _document(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
