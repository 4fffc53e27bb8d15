"""Croissant files for the import tests: the standard 1.1 context and a small dataset that uses every
construct the importer maps."""

from __future__ import annotations

import hashlib
from typing import Any

CC_BY = "https://spdx.org/licenses/CC-BY-4.0.html"
CC0 = "https://spdx.org/licenses/CC0-1.0.html"
TRAIN_SHA = hashlib.sha256(b"the bytes of train.csv").hexdigest()
TEST_SHA = hashlib.sha256(b"the bytes of test.csv").hexdigest().upper()  # Croissant does not fix the case

# The standard Croissant 1.1 context (as in mlcommons/croissant's datasets/1.1), with the RAI and PROV prefixes.
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "prov": "http://www.w3.org/ns/prov#",
    "dct": "http://purl.org/dc/terms/",
    "annotation": "cr:annotation",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileObject": "cr:fileObject",
    "fileProperty": "cr:fileProperty",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def tickets() -> dict[str, Any]:
    """Support tickets, version 1.2.0: two checksummed CSV files, a train/test split declared by a
    `cr:Split` record set, a stated record count, three upstream entities and RAI collection fields."""

    def csv(name: str, sha: str) -> dict[str, Any]:
        return {"@type": "cr:FileObject", "@id": name, "name": name, "encodingFormat": "text/csv",
                "contentUrl": f"https://data.example.com/{name}", "sha256": sha}  # fmt: skip

    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "name": "Support Tickets (EN)",
        "description": "Customer support tickets with intent labels.",
        "license": CC_BY,
        "url": "https://data.example.com/support-tickets",
        "version": "1.2.0",
        "datePublished": "2026-01-15",
        "prov:wasDerivedFrom": [
            {
                "@id": "raw-tickets",
                "@type": "prov:Entity",
                "name": "Raw tickets",
                "license": CC0,
                "prov:atLocation": "https://data.example.com/raw-tickets",
            },
            "https://forum.example.com/export",
            {"@id": "urn:dataset:ImageNet"},
        ],
        "prov:wasGeneratedBy": {"@type": "prov:Activity", "prov:label": "de-identification"},
        "rai:dataCollection": "Tickets exported from the helpdesk in 2025, then de-identified.",
        "rai:dataCollectionType": "Customer feedback data",
        "rai:dataBiases": "English only.",
        "distribution": [csv("train.csv", TRAIN_SHA), csv("test.csv", TEST_SHA)],
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": "splits",
                "name": "splits",
                "dataType": "cr:Split",
                "key": {"@id": "splits/name"},
                "field": [
                    {"@type": "cr:Field", "@id": "splits/name", "name": "name", "dataType": "sc:Text"},
                    {"@type": "cr:Field", "@id": "splits/url", "name": "url", "dataType": "sc:URL"},
                ],
                "data": [
                    {"splits/name": "train", "splits/url": "cr:TrainingSplit"},
                    {"splits/name": "test", "splits/url": "cr:TestSplit"},
                ],
            },
            {
                "@type": "cr:RecordSet",
                "@id": "tickets",
                "name": "tickets",
                "annotation": [
                    {
                        "@type": "cr:Field",
                        "@id": "tickets/count",
                        "value": 1450,
                        "dataType": "http://www.wikidata.org/entity/Q4049983",
                    }
                ],
                "field": [
                    {
                        "@type": "cr:Field",
                        "@id": "tickets/split",
                        "name": "split",
                        "dataType": "sc:Text",
                        "source": {
                            "fileObject": {"@id": "train.csv"},
                            "extract": {"fileProperty": "filename"},
                            "transform": {"regex": "^(train|test)\\.csv$"},
                        },
                        "references": {"field": {"@id": "splits/name"}},
                    },
                    {
                        "@type": "cr:Field",
                        "@id": "tickets/text",
                        "name": "text",
                        "dataType": "sc:Text",
                        "source": {"fileObject": {"@id": "train.csv"}, "extract": {"column": "text"}},
                    },
                ],
            },
        ],
    }
