"""The `amv` command line, run as operators run it: as a separate process on a data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

from tests.records_util import problem_turtle

AMV = [sys.executable, "-m", "graph.cli"]


def amv(data_dir: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AMV_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("AMV_STORE_URL", None)
    result = subprocess.run([*AMV, *args], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_init_is_idempotent_and_validate_reports_zero_violations(data_dir: Path) -> None:
    again = amv(data_dir, "init", "--sample", check=True)
    assert "sample records published: 0, rejected: 0" in again.stdout
    report = amv(data_dir, "validate", check=True)
    assert "violations: 0," in report.stdout


def test_init_on_an_empty_directory_loads_everything(tmp_path: Path) -> None:
    result = amv(tmp_path / "fresh", "init", check=True)
    assert "graphs loaded: 11" in result.stdout
    export = amv(tmp_path / "fresh", "export", "--format", "nquads", check=True)
    graphs = {q.graph_name.value for q in ox.parse(export.stdout.encode(), format=ox.RdfFormat.N_QUADS)}
    assert "https://w3id.org/arbejdsmiljoviden/vocab/factors" in graphs
    assert "https://w3id.org/arbejdsmiljoviden/ontology" in graphs


def test_loading_a_broken_record_exits_nonzero_names_record_property_rule_and_changes_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    before = amv(data_dir, "export", "--format", "nquads", check=True).stdout
    bad = tmp_path / "bad.ttl"
    bad.write_text(problem_turtle("b4d0n3zz").replace("amv:factor factor:5 ;", ""), encoding="utf-8")
    result = amv(data_dir, "load", str(bad))
    assert result.returncode == 1
    assert "https://w3id.org/arbejdsmiljoviden/id/problem/b4d0n3zz" in result.stdout
    assert "amv:factor" in result.stdout and "MinCount" in result.stdout
    assert amv(data_dir, "export", "--format", "nquads", check=True).stdout == before


def test_load_reports_per_record_and_writes_the_valid_ones(data_dir: Path, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    good.write_text(problem_turtle("g00dg00d"), encoding="utf-8")
    bad.write_text(problem_turtle("b4db4db4", title="x").replace('"x"@da', '"x"@fr'), encoding="utf-8")
    result = amv(data_dir, "load", str(good), str(bad))
    assert result.returncode == 1
    assert "1 accepted, 1 rejected" in result.stdout
    export = amv(data_dir, "export", "--format", "nt", check=True).stdout
    assert "id/problem/g00dg00d" in export and "id/problem/b4db4db4" not in export


def test_malformed_file_is_refused_with_its_position(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text('<a> <b> "unterminated .\n', encoding="utf-8")
    result = amv(data_dir, "load", str(broken))
    assert result.returncode == 1 and "broken.ttl" in result.stderr


def test_export_formats_parse(data_dir: Path, tmp_path: Path) -> None:
    scheme = "https://w3id.org/arbejdsmiljoviden/vocab/certainty"
    for fmt, rdf_format in [
        ("turtle", ox.RdfFormat.TURTLE),
        ("nt", ox.RdfFormat.N_TRIPLES),
        ("jsonld", ox.RdfFormat.JSON_LD),
        ("xml", ox.RdfFormat.RDF_XML),
        ("trig", ox.RdfFormat.TRIG),
    ]:
        target = tmp_path / f"certainty.{fmt}"
        amv(data_dir, "export", "--format", fmt, "--scheme", scheme, "-o", str(target), check=True)
        triples = list(ox.parse(path=str(target), format=rdf_format))
        assert any(q.object == ox.Literal("Meget lav", language="da") for q in triples), fmt
    unknown = amv(data_dir, "export", "--scheme", "https://example.org/nope")
    assert unknown.returncode == 1 and "no concept scheme" in unknown.stderr


def test_validate_fails_when_a_scheme_breaks_skos_integrity(data_dir: Path, tmp_path: Path) -> None:
    # Give a concept a second Danish prefLabel, through an update on the stopped store.
    from graph.config import Settings
    from graph.services import open_services

    settings = Settings(data_dir=data_dir, base_uri="https://w3id.org/arbejdsmiljoviden/")
    with open_services(settings, embedded_only=True) as services:
        services.store.update(
            "INSERT DATA { GRAPH <https://w3id.org/arbejdsmiljoviden/vocab/certainty> {"
            " <https://w3id.org/arbejdsmiljoviden/vocab/certainty/01> "
            '<http://www.w3.org/2004/02/skos/core#prefLabel> "Stærk"@da } }'
        )
    result = amv(data_dir, "validate")
    assert result.returncode == 1
    assert "certainty/01" in result.stdout and "prefLabel" in result.stdout
