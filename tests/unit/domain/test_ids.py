import pytest

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import Kind, make_id, parse_id


def test_ids_round_trip_through_parse() -> None:
    for kind, parts in [
        (Kind.SOURCE, ("acme",)),
        (Kind.DATASET_VERSION, ("reviews", "v2")),
        (Kind.SLICE, ("reviews", "v2", "train")),
        (Kind.MODEL_VERSION, ("sentiment", "3")),
    ]:
        ref = parse_id(make_id(kind, *parts), "id")
        assert (ref.kind, ref.parts) == (kind, parts)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "nonsense",
        "source:",
        "planet:x",
        "datasetVersion:reviews",
        "source:a b",
        "modelVersion:m:latest",
        "source:a:b",
    ],
)
def test_malformed_ids_are_invalid_arguments_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_id(bad, "sourceIds")
    assert caught.value.field == "sourceIds"


def test_an_id_of_the_wrong_kind_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="must be a source id"):
        parse_id("dataset:reviews", "sourceIds", Kind.SOURCE)
