"""The SDK's keyed hashes of record keys: HMAC-SHA256 truncated to 16 bytes, exactly as the service
defines it (`provgraph.domain.membership.key_hash`), on stable vectors; and the requests built from them
carry hashes, never keys."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from provgraph.client import InvalidArgumentError, key_hash
from provgraph.client._membership import hash_keys, keys_upload, record_provenance
from provgraph.domain import membership as m

SECRET = b"the-client-keeps-this-secret"


@pytest.mark.parametrize(
    ("secret", "key", "expected"),
    [
        # RFC 4231 test cases 2-4 and 6 (HMAC-SHA-256), the first 16 bytes of each.
        (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b"),
        (b"\xaa" * 20, b"\xdd" * 50, "773ea91e36800e46854db8ebd09181a7"),
        (bytes(range(1, 26)), b"\xcd" * 50, "82558a389a443c0ea4cc819899f2083a"),
        (
            b"\xaa" * 131,  # longer than SHA-256's block: the secret is hashed first
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f",
        ),
        # This SDK's own vectors: a str key is its UTF-8, a str secret too.
        (SECRET, "alice@example.com", "98e2865e02639c09fe03d0ee55776c20"),
        (SECRET, "ünïcödé", "5dc7eb7b6f7324dcbdef9763805de10c"),
        (SECRET.decode(), "alice@example.com", "98e2865e02639c09fe03d0ee55776c20"),
        (SECRET, "", "30f2bbf9b4ceba2dae34b7faed849974"),
    ],
)
def test_a_key_hash_is_hmac_sha256_truncated_to_16_bytes(
    secret: bytes | str, key: str | bytes, expected: str
) -> None:
    assert key_hash(key, secret=secret) == expected


@pytest.mark.parametrize("length", [16, 63, 64, 65, 200])
def test_the_sdk_and_the_service_hash_alike(length: int) -> None:
    secret = bytes((7 * i + length) % 256 for i in range(length))
    keys: list[str | bytes] = ["alice@example.com", "", "ünïcödé", b"\x00\xff", "x" * 1000, "42"]
    for key in keys:
        assert key_hash(key, secret=secret) == m.key_hash(secret, key)
        raw = key.encode() if isinstance(key, str) else key
        assert key_hash(key, secret=secret) == hmac.new(secret, raw, hashlib.sha256).hexdigest()[:32]
    body = hash_keys(keys, secret)
    assert bytes(body) == b"".join(bytes.fromhex(m.key_hash(secret, k)) for k in keys)


def test_a_short_secret_or_a_key_of_another_type_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(InvalidArgumentError) as short:
        key_hash("alice", secret=b"too-short")
    assert short.value.field == "secret"
    with pytest.raises(TypeError, match="str or bytes"):
        hash_keys(["a", 42], SECRET)  # type: ignore[list-item]


def test_an_upload_carries_the_hashes_in_pieces_and_never_the_keys() -> None:
    keys = [f"person-{i}" for i in range(70_000)]  # 1.12 MB: two pieces
    upload = keys_upload("http://svc:8000/graphql", "datasetVersion:people:v1", "crm", keys, SECRET, 1e-3)
    assert upload.url == "http://svc:8000/v1/record-keys"
    assert upload.params == {
        "subject": "datasetVersion:people:v1",
        "source": "source:crm",
        "falsePositiveRate": "0.001",
    }
    pieces = list(upload.pieces())
    assert len(pieces) == 2 and b"".join(pieces) == bytes(upload.body)
    assert upload.headers({})["content-length"] == str(16 * len(keys))
    assert upload.body[16 * 5 : 16 * 6].hex() == m.key_hash(SECRET, "person-5")
    assert b"person-" not in upload.body


def test_a_record_is_asked_about_by_its_hash() -> None:
    by_key = record_provenance("alice@example.com", secret=SECRET)
    assert by_key.variables["keyHash"] == m.key_hash(SECRET, "alice@example.com")
    assert "alice" not in repr(by_key.variables)
    by_hash = record_provenance(key_hash=m.key_hash(SECRET, "alice@example.com"))
    assert by_hash.variables == by_key.variables
    for wrong in (
        lambda: record_provenance(),
        lambda: record_provenance("alice", key_hash="00" * 16, secret=SECRET),
        lambda: record_provenance("alice"),
    ):
        with pytest.raises(InvalidArgumentError):
            wrong()
