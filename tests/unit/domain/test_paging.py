import pytest

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.paging import MAX_PAGE_SIZE, PageRequest, decode_cursor, encode_cursor


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor(["modelVersion:m:3", 3])) == ["modelVersion:m:3", 3]


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor.__name__])
def test_foreign_cursors_are_invalid(cursor: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        PageRequest.of(10, cursor)
    assert caught.value.field == "after"


@pytest.mark.parametrize("size", [0, -1, MAX_PAGE_SIZE + 1])
def test_page_size_out_of_range(size: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        PageRequest.of(size, None)
    assert caught.value.field == "first"
