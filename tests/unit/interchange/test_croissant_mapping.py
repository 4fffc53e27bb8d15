"""The Croissant import's mapping rules without a service: names, the digest, upstream kinds, and the guard
against mlcroissant validating the wrong node (with the real mlcroissant; nothing is written)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from croissant_docs import TRAIN_SHA, tickets
from provgraph.domain.ids import NAME_PATTERN
from provgraph.interchange.croissant import CroissantError, InvalidCroissant, plan_import, to_name, url_name


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "croissant.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("squad_v2", "squad_v2"),  # a valid name is kept as it is
        ("Support Tickets (EN)", "Support-Tickets-EN"),
        ("Données ouvertes: 2026", "Donnees-ouvertes-2026"),
        ("  _leading and trailing/.", "leading-and-trailing"),
        ("tickets/train", "tickets/train"),
    ],
)
def test_croissant_names_become_provgraph_names(text: str, name: str) -> None:
    assert to_name(text) == name


def test_a_long_name_is_cut_with_a_hash_of_the_whole_so_it_stays_unique() -> None:
    long = "x" * 200
    name = to_name(long)
    assert len(name) == 128 and NAME_PATTERN.fullmatch(name)
    assert name == "x" * 115 + "-" + hashlib.sha256(long.encode()).hexdigest()[:12]
    assert to_name(long + "y") != name


def test_a_name_without_letters_or_digits_is_refused() -> None:
    with pytest.raises(ValueError, match="no letter or digit"):
        to_name("!!! ")


def test_urls_are_named_without_their_scheme() -> None:
    assert (
        url_name("https://huggingface.co/datasets/rajpurkar/squad")
        == "huggingface.co/datasets/rajpurkar/squad"
    )
    assert url_name("urn:dataset:ImageNet") == "dataset-ImageNet"


def test_one_file_gives_its_own_digest_and_a_file_without_sha256_gives_none(tmp_path: Path) -> None:
    one = tickets()
    one["distribution"] = one["distribution"][:1]
    assert plan_import(write(tmp_path, one)).digest == f"sha256:{TRAIN_SHA}"

    md5_only = copy.deepcopy(tickets())
    del md5_only["distribution"][1]["sha256"]
    md5_only["distribution"][1]["md5"] = "0" * 32  # mlcroissant accepts md5, provgraph records SHA-256 only
    plan = plan_import(write(tmp_path, md5_only))
    assert plan.digest is None
    assert "no digest: FileObject 'test.csv' has no SHA-256" in plan.notes  # train.csv's alone would not do


def test_an_upstream_typed_as_a_dcat_dataset_is_a_dataset_source(tmp_path: Path) -> None:
    document = tickets()
    document["@context"] = {**document["@context"], "dcat": "http://www.w3.org/ns/dcat#"}
    document["prov:wasDerivedFrom"] = {"@id": "https://data.example.com/raw", "@type": "dcat:Dataset"}
    sources = {s.name: s.kind for s in plan_import(write(tmp_path, document)).sources}
    assert sources["data.example.com/raw"] == "dataset"


def test_an_upstream_typed_sc_dataset_never_becomes_the_imported_dataset(tmp_path: Path) -> None:
    # mlcroissant 1.1.1 takes the first schema.org Dataset node it meets as the dataset, and which one it
    # meets first varies from run to run: the importer refuses the file rather than import the upstream.
    document = tickets()
    document["prov:wasDerivedFrom"] = {
        "@id": "https://data.example.com/raw",
        "@type": "sc:Dataset",
        "name": "raw",
    }
    path = write(tmp_path, document)
    for _ in range(5):
        try:
            plan = plan_import(path)
        except InvalidCroissant as exc:
            assert exc.reasons == [
                "mlcroissant read the node named 'raw' as the dataset instead of 'Support Tickets (EN)': "
                "type the entities it was derived from prov:Entity rather than sc:Dataset"
            ]
        else:
            assert plan.dataset == "Support-Tickets-EN"


def test_given_names_must_already_be_provgraph_names(tmp_path: Path) -> None:
    with pytest.raises(CroissantError, match=re.escape("--version '1.2 beta' is not a provgraph name")):
        plan_import(write(tmp_path, tickets()), version="1.2 beta")
