"""The ontology is written for humans too: every term labelled and defined in Danish and English."""

from __future__ import annotations

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from graph.dataset import ONTOLOGY_FILE

AMV = rdflib.Namespace("https://w3id.org/arbejdsmiljoviden/ontology#")


def test_ontology_header() -> None:
    g = rdflib.Graph().parse(ONTOLOGY_FILE)
    (ontology,) = g.subjects(RDF.type, OWL.Ontology)
    assert g.value(ontology, OWL.versionInfo) is not None
    assert {t.language for t in g.objects(ontology, rdflib.DCTERMS.title)} == {"da", "en"}


def test_every_term_has_da_and_en_label_and_definition() -> None:
    g = rdflib.Graph().parse(ONTOLOGY_FILE)
    terms = {s for s in g.subjects() if isinstance(s, rdflib.URIRef) and s.startswith(AMV)}
    assert {AMV.KnowledgeItem, AMV.Problem, AMV.Solution, AMV.Actor, AMV.Event, AMV.solves, AMV.factor} <= terms
    for term in terms:
        for prop in (RDFS.label, SKOS.definition):
            assert {x.language for x in g.objects(term, prop)} >= {"da", "en"}, (term, prop)


def test_record_classes_reuse_standard_vocabularies() -> None:
    g = rdflib.Graph().parse(ONTOLOGY_FILE)
    schema = rdflib.Namespace("https://schema.org/")
    assert (AMV.Event, RDFS.subClassOf, schema.Event) in g
    assert (AMV.Actor, RDFS.subClassOf, schema.Organization) in g
    assert (AMV.factor, RDFS.subPropertyOf, rdflib.DCTERMS.subject) in g
