"""Named queries bind values as escaped RDF terms: user text can never become query syntax."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from graph.sparql import QueryParameterError, bind


def test_literal_with_quotes_and_braces_stays_a_literal() -> None:
    attack = 'x" } ; DROP ALL ; INSERT DATA { <a> <b> "c'
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://s"), ox.NamedNode("http://p"), ox.Literal(attack)))
    query = bind("SELECT ?s WHERE { ?s <http://p> $label }", label=attack)
    assert [row["s"] for row in store.query(query)] == [ox.NamedNode("http://s")]


def test_parameters_in_strings_iris_and_comments_are_left_alone() -> None:
    query = bind('SELECT ?x { ?x <http://e/$a> "$a" . # $a\n FILTER(?x = $a) }', a=ox.NamedNode("http://v"))
    assert query == 'SELECT ?x { ?x <http://e/$a> "$a" . # $a\n FILTER(?x = <http://v>) }'


def test_lists_bind_inside_values() -> None:
    query = bind("SELECT ?x { VALUES ?x { $xs } }", xs=[ox.NamedNode("http://a"), "b"])
    assert query == 'SELECT ?x { VALUES ?x { <http://a> "b" } }'


def test_unbound_and_unused_parameters_fail_loudly() -> None:
    with pytest.raises(QueryParameterError):
        bind("SELECT ?x { ?x ?p $missing }")
    with pytest.raises(QueryParameterError):
        bind("SELECT ?x { ?x ?p ?o }", extra="x")


def test_an_iri_cannot_smuggle_syntax() -> None:
    with pytest.raises(ValueError):
        ox.NamedNode("http://a> } ; DROP ALL ; <http://b")
