"""The etcd key layout: builders, parse(), and prefix range ends."""

from __future__ import annotations

import itertools

import pytest

from cluster.keys import Keys, prefix_range_end

pytestmark = pytest.mark.timeout(30)

K = Keys()


def test_default_prefix() -> None:
    assert K.prefix == "/amk/v1/"
    assert K.all() == b"/amk/v1/"


def test_builders() -> None:
    assert K.owner("oslo") == b"/amk/v1/regions/oslo/owner"
    assert K.takeover("oslo") == b"/amk/v1/regions/oslo/takeover"
    assert K.regions_prefix() == b"/amk/v1/regions/"
    assert K.incident("oslo", "OSL-1") == b"/amk/v1/incidents/oslo/OSL-1"
    assert K.incidents_prefix() == b"/amk/v1/incidents/"
    assert K.incidents_prefix("oslo") == b"/amk/v1/incidents/oslo/"
    assert K.unit("oslo", "osl-a11") == b"/amk/v1/units/oslo/osl-a11"
    assert K.units_prefix() == b"/amk/v1/units/"
    assert K.units_prefix("oslo") == b"/amk/v1/units/oslo/"
    assert K.counter("oslo") == b"/amk/v1/counters/oslo"
    assert K.seeded("oslo") == b"/amk/v1/seeded/oslo"
    assert K.journal("oslo", "00000042") == b"/amk/v1/journal/oslo/00000042"
    assert K.journal_prefix() == b"/amk/v1/journal/"
    assert K.journal_prefix("oslo") == b"/amk/v1/journal/oslo/"
    assert K.request("req-1") == b"/amk/v1/requests/req-1"


def test_builders_use_the_given_prefix() -> None:
    keys = Keys("/amk/test-7/")
    assert keys.incident("oslo", "OSL-1") == b"/amk/test-7/incidents/oslo/OSL-1"
    assert keys.all() == b"/amk/test-7/"
    for key in (keys.owner("r"), keys.unit("r", "u"), keys.request("q"), keys.journal("r", "1")):
        assert key.startswith(b"/amk/test-7/")


def test_non_ascii_ids_are_utf8() -> None:
    assert K.unit("sør", "å-1") == "/amk/v1/units/sør/å-1".encode()


def test_region_prefix_does_not_cover_a_longer_region_name() -> None:
    # "osl" must not select the records of "oslo".
    assert not K.incident("oslo", "OSL-1").startswith(K.incidents_prefix("osl"))
    assert not K.unit("oslo", "u").startswith(K.units_prefix("osl"))
    assert not K.journal("oslo", "1").startswith(K.journal_prefix("osl"))
    assert K.incident("osl", "OSL-1").startswith(K.incidents_prefix("osl"))


def test_every_key_lies_under_its_prefixes() -> None:
    assert K.owner("oslo").startswith(K.regions_prefix())
    assert K.incident("oslo", "1").startswith(K.incidents_prefix())
    assert K.unit("oslo", "1").startswith(K.units_prefix())
    assert K.mission("la", "1").startswith(K.missions_prefix("la"))
    assert K.missions_prefix("la").startswith(K.missions_prefix())
    for key in (K.owner("r"), K.counter("r"), K.seeded("r"), K.request("q")):
        assert key.startswith(K.all())


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        (K.incident("oslo", "OSL-1"), ("incidents", "oslo", "OSL-1")),
        (K.unit("vestre-viken", "vvi-a1"), ("units", "vestre-viken", "vvi-a1")),
        (K.owner("sorlandet"), ("regions", "sorlandet", "owner")),
        (K.takeover("sorlandet"), ("regions", "sorlandet", "takeover")),
        (K.unit("sør", "å-1"), ("units", "sør", "å-1")),
        (
            K.mission("luftambulanse-hso", "LAH-INN-000001-a1"),
            ("air_missions", "luftambulanse-hso", "LAH-INN-000001-a1"),
        ),
    ],
)
def test_parse_entity_keys(key: bytes, parsed: tuple[str, str, str]) -> None:
    assert K.parse(key) == parsed


@pytest.mark.parametrize(
    "key",
    [
        K.counter("oslo"),
        K.seeded("oslo"),
        K.journal("oslo", "00000042"),
        K.request("req-1"),
        K.all(),
        K.incidents_prefix(),
        b"/amk/v1/incidents/oslo",
        b"/amk/v1/incidents/oslo/OSL-1/extra",
        b"/amk/v1/hospitals/oslo/ous",
        b"/amk/v2/incidents/oslo/OSL-1",
        b"/amk/v1x/incidents/oslo/OSL-1",
        b"/other/incidents/oslo/OSL-1",
        b"",
        b"\xff\xfe not utf-8",
        b"/amk/v1/incidents/oslo/\xff",
    ],
)
def test_parse_other_keys_is_none(key: bytes) -> None:
    assert K.parse(key) is None


def test_parse_respects_the_prefix() -> None:
    keys = Keys("/amk/test-7/")
    assert keys.parse(keys.unit("oslo", "u1")) == ("units", "oslo", "u1")
    assert keys.parse(K.unit("oslo", "u1")) is None
    assert K.parse(keys.unit("oslo", "u1")) is None


# ----------------------------------------------------------------- prefix_range_end


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        (b"abc", b"abd"),
        (b"/amk/v1/", b"/amk/v10"),
        (b"a\xff", b"b"),
        (b"a\xff\xff", b"b"),
        (b"\x00", b"\x01"),
        (b"\xfe", b"\xff"),
        (b"a\xfe\xff", b"a\xff"),
        (b"\xff", b"\x00"),  # nothing above: etcd's "\0" means "to the end of the keyspace"
        (b"\xff\xff\xff", b"\x00"),
        (b"", b"\x00"),
    ],
)
def test_prefix_range_end_cases(prefix: bytes, end: bytes) -> None:
    assert prefix_range_end(prefix) == end


def test_prefix_range_end_does_not_modify_its_argument() -> None:
    prefix = bytearray(b"ab\xff")
    prefix_range_end(bytes(prefix))
    assert prefix == bytearray(b"ab\xff")


def _selects(prefix: bytes, key: bytes) -> bool:
    """Whether etcd's range [prefix, prefix_range_end(prefix)) holds ``key``."""
    end = prefix_range_end(prefix)
    if end == b"\x00":
        return key >= prefix
    return prefix <= key < end


def test_range_selects_exactly_the_keys_with_the_prefix() -> None:
    alphabet = [b"\x00", b"a", b"\xfe", b"\xff"]
    words = [b"".join(p) for n in range(4) for p in itertools.product(alphabet, repeat=n)]
    prefixes = [w for w in words if w]  # etcd has no empty key
    keys = [w for w in words if w] + [w + b"z" for w in words]
    wrong = [(p, k) for p in prefixes for k in keys if _selects(p, k) != k.startswith(p)]
    assert wrong == []


def test_split_agrees_with_parse_without_decoding() -> None:
    keys = Keys("/amk/test-7/")
    for key in (
        keys.incident("oslo", "OSL-1"),
        keys.unit("oslo", "osl-a11"),
        keys.owner("oslo"),
        keys.call("oslo", "c-1"),
    ):
        parsed = keys.parse(key)
        assert parsed is not None
        assert keys.split(key) == tuple(p.encode() for p in parsed)
    for key in (
        keys.journal("oslo", "00000042"),
        keys.request("req-1"),
        keys.counter("oslo"),
        K.incident("oslo", "OSL-1"),  # another deployment's prefix
    ):
        assert keys.split(key) is None and keys.parse(key) is None
