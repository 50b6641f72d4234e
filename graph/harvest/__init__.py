"""Harvesting: knowledge from partners' own publications and from international research, queued for review.

Configured sources (`amv harvest add`, `graph.harvest.sources`) of RSS/Atom feeds (`feeds`), web pages and
sitemaps carrying schema.org JSON-LD (`jsonld`), OAI-PMH repositories (`oai`) and the OpenAlex and Crossref
APIs (`scholarly`) are read through `graph.outbound` (`fetching`) into `HarvestedEntry`s (`entry`), mapped to
records with suggested concepts (`mapping`, `tagging`) and queued as pending submissions without duplicates
(`runner`), by hand or by the scheduled job in `amv serve`.
"""

from __future__ import annotations

from graph.harvest.entry import HarvestedEntry
from graph.harvest.runner import Harvester, HarvestJob, RunResult
from graph.harvest.sources import HarvestSource, HarvestSources, SourceType

__all__ = ["HarvestJob", "HarvestSource", "HarvestSources", "HarvestedEntry", "Harvester", "RunResult", "SourceType"]
