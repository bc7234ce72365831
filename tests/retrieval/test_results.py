"""One result-row layout for the CLI and the browser: rows, the JSON document, CSV and JSON exports."""

import csv
import json

import pytest

from inret_engine.errors import UsageError
from inret_engine.retrieval.results import (
    FIELDS,
    QueryOutcome,
    QuerySubject,
    export_results,
    result_rows,
    results_document,
    results_table,
)
from inret_engine.retrieval.retriever import Hit
from inret_engine.store import InrRecord


def row(id_: int, category: str, function: str = "sdf") -> InrRecord:
    return InrRecord(id_, f"{category}_{id_}", f"{category}_{id_}", category, "test", "hash", "hash-1", function,
                     f"inrs/{id_}.inr", "", None, None, None, 0.0)


@pytest.fixture
def outcome() -> QueryOutcome:
    subject = QuerySubject.of_record(row(1, "mug"))
    return QueryOutcome(subject, [Hit(row(2, "mug"), 0.912345678), Hit(row(3, "chair", "udf"), 0.5)], "any", 2,
                        embed_ms=1.23456, search_ms=0.0004)


def test_rows_are_ranked_with_every_field_and_a_category_match(outcome):
    rows = result_rows(outcome)
    assert [list(r) for r in rows] == [list(FIELDS)] * 2
    assert [(r["rank"], r["id"], r["category_match"], r["score"]) for r in rows] == [(1, 2, True, 0.912346),
                                                                                      (2, 3, False, 0.5)]
    assert results_table(outcome).splitlines()[1].split() == ["2", "0.500", "chair_3", "chair", "udf", "hash"]


def test_a_query_without_a_category_matches_nothing():
    subject = QuerySubject("tall", "?", "sdf", "hash", source="tall.stl")
    outcome = QueryOutcome(subject, [Hit(row(2, "mug"), 0.9)], "same", 1, 1.0, 1.0)
    assert not subject.labelled and result_rows(outcome)[0]["category_match"] is None
    assert results_document(outcome)["query"] == {"id": None, "name": "tall", "category": "?", "function": "sdf",
                                                  "arch": "hash", "source": "tall.stl"}


def test_exports_write_the_same_rows_as_csv_and_json(outcome, tmp_path):
    doc = json.loads(export_results(outcome, tmp_path / "r.json").read_text())
    assert doc == json.loads(json.dumps(results_document(outcome)))
    assert (doc["retrieve"], doc["k"], doc["embed_ms"], doc["search_ms"]) == ("any", 2, 1.235, 0.0)
    with export_results(outcome, tmp_path / "r.CSV").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == [r["name"] for r in doc["results"]] and list(rows[0]) == list(FIELDS)
    with pytest.raises(UsageError, match="r.xlsx: results are exported as .csv or .json"):
        export_results(outcome, tmp_path / "r.xlsx")
