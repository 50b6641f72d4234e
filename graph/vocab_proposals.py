"""Proposals: changes to the thesaurus that wait for another editor's decision.

Everyone with a role may propose. Editors "save as proposal" instead of applying; contributors may
only propose — new concepts, and new or changed labels of existing ones. A proposal is validated
when it is made (a dry run of `Thesaurus.edit`, whose changeset is kept for the reviewer) and stored
durably in the ledger's SQLite database (table `vocab_proposals`). An editor who is not the proposer
decides: accepting applies it through `Thesaurus.edit` — validated again at that moment and logged
with both names — and rejecting needs a comment. Proposers see the status of their proposals.

A proposed change to an existing concept keeps the concept as it was when proposed (`base`) and is
applied as a three-way merge: the fields the proposal changed are laid over the concept as it is
now. A field that someone else has changed meanwhile, in another way, is a conflict (409): a
proposal never silently undoes a later edit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pyoxigraph import NamedNode

from graph.accounts import Principal, Role
from graph.iris import mint_id
from graph.ledger import now
from graph.services import Services
from graph.sqlite import connect, ensure_schema
from graph.validation import Violation
from graph.vocab_edit import LABELS, ChangeSet, EditRefused, Thesaurus

SCHEMA = """
CREATE TABLE IF NOT EXISTS vocab_proposals (
    id           TEXT PRIMARY KEY,
    scheme       TEXT NOT NULL,   -- the scheme's IRI
    concept      TEXT NOT NULL,   -- the concept's IRI (to be created, or changed)
    action       TEXT NOT NULL,   -- create | edit
    status       TEXT NOT NULL,   -- open | accepting | accepted | rejected
    proposed_by  TEXT NOT NULL,   -- the agent (user:… or token:…)
    proposed_at  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    proposal     TEXT NOT NULL,   -- the editing JSON proposed
    base         TEXT,            -- the concept's editing JSON when proposed (edit only)
    changeset    TEXT NOT NULL,   -- the dry run: {"added": [...], "removed": [...]} as N-Triples lines
    decided_by   TEXT,
    decided_at   TEXT,
    comment      TEXT
);
CREATE INDEX IF NOT EXISTS vocab_proposals_status ON vocab_proposals (status, proposed_at);
CREATE INDEX IF NOT EXISTS vocab_proposals_by ON vocab_proposals (proposed_by, proposed_at);
"""

#: What a contributor's proposal of a new concept may say; of an existing concept only labels may change.
CONTRIBUTOR_NEW_FIELDS = {
    "iri",
    "notation",
    "topConceptOf",
    *LABELS,
    "definition",
    "scopeNote",
    "example",
    "broader",
    "related",
}


class ProposalStatus(StrEnum):
    open = "open"
    accepting = "accepting"  # claimed by the editor accepting it, for the moment the edit takes
    accepted = "accepted"
    rejected = "rejected"


def _problem(field_name: str, en: str, da: str) -> Violation:
    return Violation(focus="", path=field_name, messages={"en": en, "da": da}, rule="proposal")


def _normal(value: Any) -> Any:
    """A field's value compared without regard to the order of its lists."""
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items() if not _blank(v)}
    if isinstance(value, list):
        return sorted(json.dumps(_normal(v), sort_keys=True, ensure_ascii=False) for v in value)
    return value


def _blank(value: Any) -> bool:
    return value is None or value is False or value in ({}, [], "")


def _same(a: Any, b: Any) -> bool:
    """Equal as editing-JSON fields: absent, false and empty are the same (no statement)."""
    return _normal(None if _blank(a) else a) == _normal(None if _blank(b) else b)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in (set(before) | set(after)) - {"iri"} if not _same(before.get(k), after.get(k)))


def three_way(base: Mapping[str, Any], proposal: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The proposal's changes (base → proposal) laid over the concept as it is now; EditRefused(409)
    when a field the proposal changes has meanwhile changed in another way."""
    merged = {k: v for k, v in current.items()}
    conflicts = []
    for key in changed_fields(base, proposal):
        if _same(current.get(key), base.get(key)) or _same(current.get(key), proposal.get(key)):
            if proposal.get(key) is None:
                merged.pop(key, None)
            else:
                merged[key] = proposal[key]
        else:
            conflicts.append(key)
    if conflicts:
        raise EditRefused(
            409,
            "The concept has changed since the proposal was made; nothing was changed.",
            [
                _problem(
                    key,
                    "changed by someone else since the proposal was made",
                    "ændret af en anden, siden forslaget blev stillet",
                )
                for key in conflicts
            ],
        )
    return merged


@dataclass(frozen=True)
class FieldChange:
    """One field of a proposal, before and after, for the reviewer."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Proposal:
    id: str
    scheme: str
    concept: str
    action: str
    status: ProposalStatus
    proposed_by: str
    proposed_at: str
    reason: str
    proposal: dict[str, Any]
    base: dict[str, Any] | None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    decided_by: str | None = None
    decided_at: str | None = None
    comment: str | None = None

    @property
    def scheme_id(self) -> str:
        return self.scheme.rsplit("/", 1)[-1]

    @property
    def code(self) -> str:
        return self.concept.removeprefix(self.scheme + "/")

    @property
    def is_open(self) -> bool:
        return self.status == ProposalStatus.open

    def label(self, lang: str) -> str:
        """The concept's preferred label as proposed (or its code)."""
        labels = self.proposal.get("prefLabel") or {}
        text = labels.get(lang) or labels.get("da") or next(iter(labels.values()), None)
        return text if isinstance(text, str) else self.code

    @property
    def changes(self) -> list[FieldChange]:
        base = self.base or {}
        return [FieldChange(k, base.get(k), self.proposal.get(k)) for k in changed_fields(base, self.proposal)]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scheme": self.scheme,
            "concept": self.concept,
            "code": self.code,
            "action": self.action,
            "status": self.status.value,
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at,
            "reason": self.reason,
            "concept_json": self.proposal,
            "fields": [c.name for c in self.changes],
            "changeset": {"added": self.added, "removed": self.removed},
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "comment": self.comment,
            "location": f"/api/proposals/{self.id}",
        }


def _proposal(row: sqlite3.Row) -> Proposal:
    changeset = json.loads(row["changeset"])
    return Proposal(
        id=row["id"],
        scheme=row["scheme"],
        concept=row["concept"],
        action=row["action"],
        status=ProposalStatus(row["status"]),
        proposed_by=row["proposed_by"],
        proposed_at=row["proposed_at"],
        reason=row["reason"],
        proposal=json.loads(row["proposal"]),
        base=json.loads(row["base"]) if row["base"] else None,
        added=changeset.get("added", []),
        removed=changeset.get("removed", []),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        comment=row["comment"],
    )


class Proposals:
    """The proposal workflow over the ledger's database and the thesaurus."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.thesaurus = Thesaurus(services)
        self._path = services.settings.ledger_path
        ensure_schema(self._path, SCHEMA)

    def _connection(self) -> AbstractContextManager[sqlite3.Connection]:
        """A connection of our own to the ledger's database: each statement commits on its own, never
        inside a transaction another part of the app holds on the shared connection (which a rollback of
        theirs would take with it)."""
        return connect(self._path, synchronous="FULL")  # an acknowledged proposal survives power loss

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._connection() as db:
            return db.execute(sql, params).fetchall()

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one statement; how many rows it changed."""
        with self._connection() as db:
            return db.execute(sql, params).rowcount

    # -- proposing ---------------------------------------------------------------------------

    def propose(
        self,
        concept: NamedNode,
        scheme: NamedNode,
        data: Any,
        *,
        create: bool,
        principal: Principal,
        reason: str,
    ) -> Proposal:
        """Validate the change (dry run) and keep it for review; EditRefused when it is not acceptable."""
        if not isinstance(data, dict):
            raise EditRefused(400, "The proposed concept must be a JSON object.")
        base = None
        if not create:
            base = self.thesaurus.describe_json(concept, scheme)
            if len(base) == 1:
                raise EditRefused(404, f"No concept {concept.value} in {scheme.value}.")
        if not principal.role.at_least(Role.editor):
            self._contributor_may(data, base)
        changes = self.thesaurus.edit(
            concept, scheme, data, agent=principal.agent, reason=reason, create=create, dry_run=True
        )
        if changes.empty:
            raise EditRefused(
                422,
                "The proposal changes nothing.",
                [_problem("", "the proposal changes nothing", "forslaget ændrer ingenting")],
            )
        proposal = Proposal(
            id=mint_id(),
            scheme=scheme.value,
            concept=concept.value,
            action="create" if create else "edit",
            status=ProposalStatus.open,
            proposed_by=principal.agent,
            proposed_at=now(),
            reason=reason.strip(),
            proposal={**data, "iri": concept.value},
            base=base,
            added=sorted(str(t) for t in changes.added),
            removed=sorted(str(t) for t in changes.removed),
        )
        self._write(
            """INSERT INTO vocab_proposals (id, scheme, concept, action, status, proposed_by, proposed_at,
                   reason, proposal, base, changeset)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                proposal.id,
                proposal.scheme,
                proposal.concept,
                proposal.action,
                proposal.status.value,
                proposal.proposed_by,
                proposal.proposed_at,
                proposal.reason,
                json.dumps(proposal.proposal, ensure_ascii=False),
                json.dumps(base, ensure_ascii=False) if base is not None else None,
                json.dumps({"added": proposal.added, "removed": proposal.removed}, ensure_ascii=False),
            ),
        )
        return proposal

    def submit(
        self,
        concept: NamedNode,
        scheme: NamedNode,
        data: Any,
        *,
        create: bool,
        principal: Principal,
        reason: str,
        as_proposal: bool,
    ) -> Proposal | ChangeSet:
        """What an editing form does: keep the change as a proposal, or apply it (editors only)."""
        try:
            if as_proposal:
                return self.propose(concept, scheme, data, create=create, principal=principal, reason=reason)
            if not principal.role.at_least(Role.editor):
                raise EditRefused(
                    403,
                    "Contributors can only propose changes.",
                    [
                        _problem(
                            "",
                            "as a contributor you can only propose changes; an editor reviews them",
                            "som bidragyder kan du kun foreslå ændringer; en redaktør ser dem igennem",
                        )
                    ],
                )
            return self.thesaurus.edit(concept, scheme, data, agent=principal.agent, reason=reason, create=create)
        except EditRefused as exc:
            if create and exc.status == 409 and not exc.violations:  # the code names an existing concept
                raise EditRefused(
                    409,
                    exc.message,
                    [
                        _problem(
                            "notation",
                            "the code is used by another concept of the scheme",
                            "koden bruges allerede af et andet begreb i begrebssystemet",
                        )
                    ],
                ) from None
            raise

    @staticmethod
    def _contributor_may(data: Mapping[str, Any], base: Mapping[str, Any] | None) -> None:
        """Contributors propose new concepts and labels; the rest of the thesaurus is the editors'."""
        if base is None:
            refused = sorted(k for k, v in data.items() if k not in CONTRIBUTOR_NEW_FIELDS and v not in (None, [], {}))
        else:
            refused = [k for k in changed_fields(base, {**data, "iri": base.get("iri")}) if k not in LABELS]
        if refused:
            raise EditRefused(
                403,
                "Contributors may propose new concepts and labels only; an editor can change the rest.",
                [
                    _problem(
                        name,
                        "contributors may not change this field; ask an editor",
                        "bidragydere kan ikke ændre dette felt; spørg en redaktør",
                    )
                    for name in refused
                ],
            )

    # -- reading -----------------------------------------------------------------------------

    def get(self, proposal_id: str) -> Proposal | None:
        rows = self._rows("SELECT * FROM vocab_proposals WHERE id = ?", (proposal_id,))
        return _proposal(rows[0]) if rows else None

    def find(
        self, *, status: ProposalStatus | None = None, proposer: str | None = None, limit: int = 200
    ) -> list[Proposal]:
        """Newest first; open ones are listed oldest first (the order to review them in)."""
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if proposer is not None:
            where.append("proposed_by = ?")
            params.append(proposer)
        order = "ASC" if status == ProposalStatus.open else "DESC"
        rows = self._rows(
            "SELECT * FROM vocab_proposals"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY proposed_at {order}, id LIMIT ?",
            (*params, limit),
        )
        return [_proposal(r) for r in rows]

    # -- deciding ----------------------------------------------------------------------------

    def _decidable(self, proposal_id: str, editor: Principal) -> Proposal:
        if not editor.role.at_least(Role.editor):
            raise EditRefused(403, f"Deciding on proposals needs the editor role; you have {editor.role.value}.")
        proposal = self.get(proposal_id)
        if proposal is None:
            raise EditRefused(404, f"No proposal {proposal_id}.")
        if proposal.proposed_by == editor.agent:
            raise EditRefused(
                403,
                "Another editor must decide on your own proposal.",
                [
                    _problem(
                        "",
                        "you cannot accept or reject your own proposal; another editor must decide",
                        "du kan ikke godkende eller afvise dit eget forslag; en anden redaktør skal tage stilling",
                    )
                ],
            )
        if proposal.status != ProposalStatus.open:
            raise EditRefused(409, f"The proposal is {proposal.status.value} already.")
        return proposal

    def accept(self, proposal_id: str, *, editor: Principal, comment: str = "") -> tuple[Proposal, ChangeSet]:
        """Apply the proposal (validated again now) and mark it accepted; the log names both people."""
        proposal = self._decidable(proposal_id, editor)
        claimed = self._write(
            "UPDATE vocab_proposals SET status = ? WHERE id = ? AND status = ?",
            (ProposalStatus.accepting.value, proposal.id, ProposalStatus.open.value),
        )
        if claimed != 1:  # another editor got there first
            raise EditRefused(409, "The proposal has just been decided by someone else.")
        concept, scheme = NamedNode(proposal.concept), NamedNode(proposal.scheme)
        reason = f"{proposal.reason} [proposal {proposal.id} by {proposal.proposed_by}, accepted by {editor.agent}]"
        try:
            if proposal.base is None:
                data = proposal.proposal
            else:
                data = three_way(proposal.base, proposal.proposal, self.thesaurus.describe_json(concept, scheme))
            changes = self.thesaurus.edit(
                concept, scheme, data, agent=editor.agent, reason=reason.strip(), create=proposal.action == "create"
            )
        except BaseException:
            self._write("UPDATE vocab_proposals SET status = ? WHERE id = ?", (ProposalStatus.open.value, proposal.id))
            raise
        self._write(
            "UPDATE vocab_proposals SET status = ?, decided_by = ?, decided_at = ?, comment = ? WHERE id = ?",
            (ProposalStatus.accepted.value, editor.agent, now(), comment.strip() or None, proposal.id),
        )
        decided = self.get(proposal.id)
        assert decided is not None
        return decided, changes

    def reject(self, proposal_id: str, *, editor: Principal, comment: str) -> Proposal:
        proposal = self._decidable(proposal_id, editor)
        if not comment.strip():
            raise EditRefused(
                422,
                "Say why the proposal is rejected.",
                [_problem("comment", "say why the proposal is rejected", "skriv, hvorfor forslaget afvises")],
            )
        done = self._write(
            "UPDATE vocab_proposals SET status = ?, decided_by = ?, decided_at = ?, comment = ? "
            "WHERE id = ? AND status = ?",
            (
                ProposalStatus.rejected.value,
                editor.agent,
                now(),
                comment.strip(),
                proposal.id,
                ProposalStatus.open.value,
            ),
        )
        if done != 1:
            raise EditRefused(409, "The proposal has just been decided by someone else.")
        decided = self.get(proposal.id)
        assert decided is not None
        return decided
