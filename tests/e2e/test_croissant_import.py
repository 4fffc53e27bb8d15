"""`provgraph import croissant` against the real service over HTTP, validated by the real mlcroissant: a
Croissant file becomes a dataset version with its sources and split slices, provenance questions are
answered across the import, a second import changes nothing and an invalid file writes nothing."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from neo4j import Driver

from conftest import Tokens
from croissant_docs import CC0, CC_BY, TEST_SHA, TRAIN_SHA, tickets
from provgraph.client import Client
from provgraph.interchange.croissant import import_croissant

from .conftest import ApiServer

SQUAD = Path(__file__).parent / "data" / "croissant" / "huggingface-squad_v2.json"
VERSION_ID = "datasetVersion:Support-Tickets-EN:1.2.0"
TRAIN = "slice:Support-Tickets-EN:1.2.0:tickets/train"
RAW = "source:data.example.com/raw-tickets"
COLLECTION = "source:Support-Tickets-EN/1.2.0/collection"


def write(directory: Path, document: dict[str, Any], name: str = "tickets.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(document, indent=2))
    return path


def cli(server: ApiServer, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`provgraph import croissant …` as a user runs it, configured only through the environment."""
    env = {**os.environ, "PROVGRAPH_URL": server.url, "PROVGRAPH_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "provgraph", "import", "croissant", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def graph_size(driver: Driver) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN count(n) AS nodes, COUNT { ()-[]->() } AS relationships", database_="neo4j"
    )
    return records[0]["nodes"], records[0]["relationships"]


VERSION = """query($id: ID!) { datasetVersion(id: $id) {
  id version digest uri rowCount dataset { name description }
  sources { id kind uri license description } slices { id name predicate rowCount } } }"""


def test_a_croissant_file_is_imported_and_provenance_is_answered_across_it(
    api_server: ApiServer, tokens: Tokens, tmp_path: Path
) -> None:
    done = cli(api_server, tokens.writer, str(write(tmp_path, tickets())))
    assert done.returncode == 0, done.stderr
    assert f"created\t{VERSION_ID}" in done.stdout.splitlines()
    assert "rai:dataBiases" in done.stderr and "prov:wasGeneratedBy not mapped" in done.stderr

    with Client(api_server.url, token=tokens.writer) as pg:
        version = pg.execute(VERSION, {"id": VERSION_ID})["datasetVersion"]
        # Two files: the SHA-256 of their lower-case digests, sorted, one per line.
        combined = "".join(f"{d}\n" for d in sorted([TRAIN_SHA, TEST_SHA.lower()]))
        assert version["digest"] == "sha256:" + hashlib.sha256(combined.encode()).hexdigest()
        assert version["uri"] == "https://data.example.com/support-tickets"
        assert version["rowCount"] == 1450  # the record set's cardinality annotation
        assert version["dataset"] == {
            "name": "Support-Tickets-EN",
            "description": "Customer support tickets with intent labels.",
        }
        assert {s.pop("id"): s for s in version["sources"]} == {
            RAW: {"kind": "url", "uri": "https://data.example.com/raw-tickets", "license": CC0,
                  "description": "Raw tickets"},
            "source:forum.example.com/export": {"kind": "url", "uri": "https://forum.example.com/export",
                                                "license": None, "description": None},
            "source:dataset-ImageNet": {"kind": "entity", "uri": "urn:dataset:ImageNet", "license": None,
                                        "description": None},
            COLLECTION: {"kind": "customer-feedback-data", "uri": None, "license": CC_BY,
                         "description": "Tickets exported from the helpdesk in 2025, then de-identified.\n\n"
                                        "Data collection type: Customer feedback data."},
        }  # fmt: skip
        assert sorted((s["id"], s["predicate"], s["rowCount"]) for s in version["slices"]) == [
            ("slice:Support-Tickets-EN:1.2.0:tickets/test", "tickets/split = 'test'", None),
            (TRAIN, "tickets/split = 'train'", None),
        ]

        upstream = pg.lineage(TRAIN, direction="UPSTREAM", types=["Source", "DatasetVersion"])
        assert {node.id for node in upstream.nodes} == {
            VERSION_ID,
            RAW,
            COLLECTION,
            "source:forum.example.com/export",
            "source:dataset-ImageNet",
        }

        pg.register_run("intent-train-1", "TRAIN", experiment="intent", inputs=[(TRAIN, "TRAIN")])
        pg.complete_run("intent-train-1", metrics={"val_f1": 0.88})
        pg.register_model("intent")
        model_version = pg.register_model_version(
            "intent", "s3://models/intent/1", trained_by="intent-train-1"
        )
        for source in (RAW, COLLECTION):
            uses = pg.models_using_source(source)
            assert [use.model_version.id for use in uses.items] == [model_version.id]
            path = uses.items[0].paths[0]
            assert path.node_ids == [model_version.id, "run:intent-train-1", TRAIN, VERSION_ID, source]
            assert path.edge_types == ["GENERATED_BY", "USED", "SUBSET_OF", "FROM_SOURCE"]


def test_the_squad_v2_croissant_of_the_mlcommons_repository_is_imported_as_far_as_it_states(
    api_server: ApiServer, tokens: Tokens
) -> None:
    # mlcroissant ships no example datasets; this is the copy its tests read from mlcommons/croissant.
    with Client(api_server.url, token=tokens.writer) as pg:
        result = import_croissant(SQUAD, pg, version="2025-12-03")  # the file states no version
        version = pg.execute(VERSION, {"id": "datasetVersion:squad_v2:2025-12-03"})["datasetVersion"]
    assert result.created == len(result.written) == 5  # a source, the dataset, the version, two slices
    assert version["uri"] == "https://huggingface.co/datasets/rajpurkar/squad_v2"
    assert version["digest"] is None  # its only FileObject's "sha256" is a URL placeholder, not a digest
    assert version["rowCount"] is None
    assert version["dataset"]["description"].startswith("Dataset Card for SQuAD 2.0")
    assert version["sources"] == [
        {"id": "source:huggingface.co/datasets/rajpurkar/squad", "kind": "url",
         "uri": "https://huggingface.co/datasets/rajpurkar/squad", "license": None, "description": None}
    ]  # fmt: skip
    assert sorted((s["name"], s["predicate"]) for s in version["slices"]) == [
        ("squad_v2/train", "squad_v2/split = 'train'"),
        ("squad_v2/validation", "squad_v2/split = 'validation'"),
    ]
    notes = "\n".join(result.plan.notes)
    assert "no digest: FileObject 'repo'" in notes
    assert "license 'https://choosealicense.com/licenses/cc-by-sa-4.0/' not recorded" in notes
    assert "prov:isAssociatedWith, prov:wasGeneratedBy not mapped" in notes


def test_importing_the_same_file_twice_changes_nothing(
    api_server: ApiServer, tokens: Tokens, driver: Driver, tmp_path: Path
) -> None:
    path = write(tmp_path, tickets())
    with Client(api_server.url, token=tokens.writer) as pg:
        first = import_croissant(path, pg)
        after_first = graph_size(driver)
        second = import_croissant(path, pg)
    assert first.created == len(first.written) == 8  # four sources, the dataset, the version, two slices
    assert [created for _, created in second.written] == [False] * 8
    assert [entity_id for entity_id, _ in second.written] == [entity_id for entity_id, _ in first.written]
    assert graph_size(driver) == after_first  # nodes and relationships, the audit ledger's included

    again = cli(api_server, tokens.writer, str(path))
    assert again.returncode == 0, again.stderr
    assert f"{VERSION_ID}: 0 created, 8 already there" in again.stderr
    assert graph_size(driver) == after_first


def test_a_source_already_recorded_with_other_facts_stays_as_recorded_and_is_linked(
    api_server: ApiServer, tokens: Tokens, tmp_path: Path
) -> None:
    with Client(api_server.url, token=tokens.writer) as pg:
        pg.register_source("data.example.com/raw-tickets", "vendor", license="proprietary")
        result = import_croissant(write(tmp_path, tickets()), pg)
        version = pg.execute(VERSION, {"id": VERSION_ID})["datasetVersion"]
    assert (RAW, False) in result.written
    assert result.warnings == [
        f"source {RAW.removeprefix('source:')} is already recorded with another kind; kept as recorded"
    ]
    raw = next(s for s in version["sources"] if s["id"] == RAW)
    assert (raw["kind"], raw["license"]) == ("vendor", "proprietary")


def test_an_invalid_croissant_file_exits_2_with_the_reasons_and_writes_nothing(
    api_server: ApiServer, tokens: Tokens, driver: Driver, tmp_path: Path
) -> None:
    invalid = copy.deepcopy(tickets())
    del invalid["distribution"][1]["sha256"]  # a top-level file must carry a checksum
    invalid["recordSet"][1]["field"][1]["source"]["fileObject"]["@id"] = "missing.csv"
    before = graph_size(driver)

    done = cli(api_server, tokens.writer, str(write(tmp_path, invalid)))
    assert done.returncode == 2
    assert "nothing was written" in done.stderr
    assert "At least one of these properties should be defined: ['md5', 'sha256']" in done.stderr
    assert 'reference to node with UUID "missing.csv"' in done.stderr
    assert graph_size(driver) == before

    no_version = {k: v for k, v in tickets().items() if k != "version"}
    done = cli(api_server, tokens.writer, str(write(tmp_path, no_version, "no-version.json")))
    assert done.returncode == 2
    assert "the file states no version: give --version" in done.stderr
    assert graph_size(driver) == before
