"""URI rules, pattern validation, matching and the spec's resolution order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wamp_core import uri as uri_module
from wamp_core.exception import InvalidUriError
from wamp_core.uri import (
    MATCH_POLICIES,
    UriMatcher,
    is_valid_pattern,
    is_valid_uri,
    match_uri,
    validate_pattern,
    validate_uri,
)

STRICT_COMPONENT = st.from_regex(r"[0-9a-z_]+", fullmatch=True)
STRICT_URI = st.lists(STRICT_COMPONENT, min_size=1, max_size=6).map(".".join)
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=20) | st.text("ab.# \tA_-", max_size=12)

# ------------------------------------------------------------------ the four rules

LOOSE_VALID = ["a", "com.myapp.topic1", "com.my-app.Topic", "a.b_c.d1", "ünïcode.ok", "x:y.z"]
LOOSE_INVALID = ["", ".", "a..b", ".a", "a.", "a b", "a\tb", "a.\u00a0", "a#b", "#", "a.#.c"]
STRICT_VALID = ["a", "com.myapp.topic1", "a_b.c_1", "0.1"]
STRICT_INVALID = ["com.MyApp", "com.my-app", "a.ü", "A"]
EMPTY_VALID = ["", ".", "a..b", ".a", "a.", "..", "com..topic"]
EMPTY_INVALID = ["a b..c", "a.#", " "]


@pytest.mark.parametrize("value", LOOSE_VALID)
def test_loose_valid(value: str) -> None:
    assert is_valid_uri(value)
    assert is_valid_uri(value, allow_empty=True)


@pytest.mark.parametrize("value", LOOSE_INVALID)
def test_loose_invalid(value: str) -> None:
    assert not is_valid_uri(value)


@pytest.mark.parametrize("value", STRICT_VALID)
def test_strict_valid(value: str) -> None:
    assert is_valid_uri(value, strict=True)
    assert is_valid_uri(value, strict=True, allow_empty=True)


@pytest.mark.parametrize("value", STRICT_INVALID + LOOSE_INVALID)
def test_strict_invalid(value: str) -> None:
    assert not is_valid_uri(value, strict=True)


@pytest.mark.parametrize("value", EMPTY_VALID)
def test_empty_components_allowed(value: str) -> None:
    assert is_valid_uri(value, allow_empty=True)
    assert is_valid_uri(value, strict=True, allow_empty=True)


@pytest.mark.parametrize("value", EMPTY_INVALID)
def test_empty_rule_still_rejects_whitespace_and_hash(value: str) -> None:
    assert not is_valid_uri(value, allow_empty=True)
    assert not is_valid_uri(value, strict=True, allow_empty=True)


def test_strict_empty_rejects_uppercase() -> None:
    assert not is_valid_uri("a..B", strict=True, allow_empty=True)


class StrSub(str):
    pass


@pytest.mark.parametrize("value", [None, 1, 1.5, b"a.b", ["a"], StrSub("a.b"), True])
def test_non_str_is_invalid(value: object) -> None:
    for strict in (False, True):
        for allow_empty in (False, True):
            assert not is_valid_uri(value, strict=strict, allow_empty=allow_empty)


def test_cache_is_bounded_and_still_correct() -> None:
    known = uri_module._VALID[(False, False)]
    known.clear()
    for i in range(uri_module._CACHE_LIMIT + 10):
        assert is_valid_uri(f"com.fill.t{i}")
        assert len(known) <= uri_module._CACHE_LIMIT
    # Cleared once when full: only the URIs after the clear are remembered.
    assert len(known) == 10
    assert is_valid_uri("com.fill.t0")  # forgotten, re-validated, valid again
    assert "com.fill.t0" in known
    assert not is_valid_uri("com..fill")
    assert "com..fill" not in known  # invalid URIs are never cached
    assert is_valid_uri("com.fill.t0")  # served from the cache


def test_caches_are_per_rule() -> None:
    assert is_valid_uri("a..b", allow_empty=True)
    assert not is_valid_uri("a..b")
    assert is_valid_uri("com.Upper")
    assert not is_valid_uri("com.Upper", strict=True)


@given(STRICT_URI)
def test_strict_implies_loose(value: str) -> None:
    assert is_valid_uri(value, strict=True)
    assert is_valid_uri(value)
    assert is_valid_uri(value, allow_empty=True)
    assert is_valid_uri(value, strict=True, allow_empty=True)


@given(ANY_TEXT, st.booleans(), st.booleans())
def test_validate_agrees_with_is_valid(value: str, strict: bool, allow_empty: bool) -> None:
    if is_valid_uri(value, strict=strict, allow_empty=allow_empty):
        assert validate_uri(value, strict=strict, allow_empty=allow_empty) == value
    else:
        with pytest.raises(InvalidUriError):
            validate_uri(value, strict=strict, allow_empty=allow_empty)


@given(ANY_TEXT, st.booleans(), st.sampled_from(sorted(MATCH_POLICIES)))
def test_validate_pattern_agrees(value: str, strict: bool, match: str) -> None:
    if is_valid_pattern(value, match, strict=strict):
        assert validate_pattern(value, match, strict=strict) == value
    else:
        with pytest.raises(InvalidUriError):
            validate_pattern(value, match, strict=strict)


# -------------------------------------------------------------------- validate_uri


@pytest.mark.parametrize(
    ("value", "kwargs", "reason"),
    [
        ("", {}, "must not be empty"),
        ("com.my app", {}, "whitespace (' ') at index 6"),
        ("com.a\nb", {}, "whitespace ('\\n') at index 5"),
        ("com.#", {}, "'#' at index 4"),
        ("a..b", {}, "component 2 is empty"),
        (".a", {}, "component 1 is empty"),
        ("a.", {}, "component 2 is empty"),
        ("com.MyApp", {"strict": True}, "'MyApp' has characters outside [0-9a-z_]"),
        ("com..My", {"strict": True, "allow_empty": True}, "'My' has characters outside"),
        ("a #", {"allow_empty": True}, "whitespace"),
    ],
)
def test_validate_uri_reasons(value: str, kwargs: dict[str, bool], reason: str) -> None:
    with pytest.raises(InvalidUriError) as info:
        validate_uri(value, what="procedure", **kwargs)
    text = str(info.value)
    assert text.startswith(f"invalid procedure {value!r}")
    assert reason in text
    assert ("strict rule" in text) == kwargs.get("strict", False)


def test_validate_uri_returns_value_and_default_what() -> None:
    assert validate_uri("com.ok") == "com.ok"
    with pytest.raises(InvalidUriError, match=r"^invalid URI 'a\.\.b' \(loose rule\)"):
        validate_uri("a..b")


@pytest.mark.parametrize("value", [None, 3, b"com.x"])
def test_validate_uri_non_str(value: object) -> None:
    with pytest.raises(InvalidUriError, match=r"^topic must be a str, not"):
        validate_uri(value, what="topic")


def test_invalid_uri_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate_uri("a b")


# ----------------------------------------------------------------- validate_pattern


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("com.myapp", "exact"),
        ("com.myapp", "prefix"),
        ("com.myapp.", "prefix"),
        ("", "prefix"),
        ("com.myapp", "wildcard"),
        ("com..myapp", "wildcard"),
        ("", "wildcard"),
        ("..", "wildcard"),
    ],
)
def test_pattern_valid(value: str, match: str) -> None:
    assert is_valid_pattern(value, match)
    assert validate_pattern(value, match) == value


@pytest.mark.parametrize(
    ("value", "match", "reason"),
    [
        ("", "exact", "must not be empty"),
        ("com..myapp", "exact", "component 2 is empty"),
        ("com..myapp", "prefix", "component 2 is empty"),
        (".", "prefix", "component 1 is empty"),
        ("a..", "prefix", "component 2 is empty"),
        ("a b.", "prefix", "whitespace"),
        ("a#", "prefix", "'#'"),
        ("a b", "wildcard", "whitespace"),
    ],
)
def test_pattern_invalid(value: str, match: str, reason: str) -> None:
    assert not is_valid_pattern(value, match)
    with pytest.raises(InvalidUriError) as info:
        validate_pattern(value, match, what="topic")
    assert reason in str(info.value)
    assert "topic" in str(info.value)


def test_prefix_message_says_prefix() -> None:
    with pytest.raises(InvalidUriError, match=r"^invalid topic prefix 'a\.\.' \(loose rule\)"):
        validate_pattern("a..", "prefix", what="topic")


def test_pattern_strict() -> None:
    assert is_valid_pattern("com.app.", "prefix", strict=True)
    assert not is_valid_pattern("com.App.", "prefix", strict=True)
    with pytest.raises(InvalidUriError, match=r"'App' has characters outside.*strict rule"):
        validate_pattern("com.App.", "prefix", strict=True)
    with pytest.raises(InvalidUriError, match=r"\(strict rule\)"):
        validate_pattern("com..App", "wildcard", strict=True)
    assert validate_pattern("com..app", "wildcard", strict=True) == "com..app"
    with pytest.raises(InvalidUriError, match=r"':' has characters outside"):
        validate_pattern(":", "prefix", strict=True)  # the spared last component is checked
    with pytest.raises(InvalidUriError, match=r"component 1 is empty"):
        validate_pattern(".", "prefix", strict=True)


@pytest.mark.parametrize("match", ["exact", "prefix", "wildcard"])
@pytest.mark.parametrize("value", [None, 5, b"a"])
def test_pattern_non_str(value: object, match: str) -> None:
    assert not is_valid_pattern(value, match)
    with pytest.raises(InvalidUriError, match="must be a str"):
        validate_pattern(value, match)


def test_pattern_bad_match() -> None:
    with pytest.raises(ValueError, match="match must be one of"):
        validate_pattern("a.b", "regex")
    with pytest.raises(TypeError, match="match must be a str, not NoneType"):
        is_valid_pattern("a.b", None)  # type: ignore[arg-type]


# ----------------------------------------------------------------------- match_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        # advanced/rpc_pattern_based_registration.md, prefix example
        ("com.myapp.myobject1.myprocedure1", True),
        ("com.myapp.myobject1-mysubobject1", True),
        ("com.myapp.myobject1.mysubobject1.myprocedure1", True),
        ("com.myapp.myobject1", True),
        ("com.myapp.myobject2", False),
        ("com.myapp.myobject", False),
    ],
)
def test_match_prefix_spec_examples(uri: str, expected: bool) -> None:
    assert match_uri("com.myapp.myobject1", "prefix", uri) is expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("com.myapp.myobject1.myprocedure1", True),
        ("com.myapp.myobject2.myprocedure1", True),
        ("com.myapp.myobject1.myprocedure1.mysubprocedure1", False),
        ("com.myapp.myobject1.myprocedure2", False),
        ("com.myapp2.myobject1.myprocedure1", False),
    ],
)
def test_match_wildcard_spec_examples(uri: str, expected: bool) -> None:
    assert match_uri("com.myapp..myprocedure1", "wildcard", uri) is expected


def test_match_exact_and_trailing_dot_prefix() -> None:
    assert match_uri("a.b", "exact", "a.b")
    assert not match_uri("a.b", "exact", "a.b.c")
    assert match_uri("a.b1", "prefix", "a.b1-x")
    assert match_uri("com.myapp.", "prefix", "com.myapp.x")
    assert not match_uri("com.myapp.", "prefix", "com.myapp")
    assert match_uri("", "prefix", "anything.at.all")


def test_match_unknown_policy() -> None:
    with pytest.raises(ValueError, match="match must be one of"):
        match_uri("a", "glob", "a")


@given(STRICT_URI, st.data())
def test_wildcarded_uri_matches_itself(value: str, data: st.DataObject) -> None:
    parts = value.split(".")
    mask = data.draw(st.lists(st.booleans(), min_size=len(parts), max_size=len(parts)))
    pattern = ".".join("" if blank else part for part, blank in zip(parts, mask, strict=True))
    assert match_uri(pattern, "wildcard", value)
    assert not match_uri(pattern, "wildcard", value + ".extra")
    assert match_uri(value[: data.draw(st.integers(0, len(value)))], "prefix", value)


# ---------------------------------------------------------------------- UriMatcher

SPEC_TABLE = UriMatcher[int]()
for _pattern, _match, _value in [
    ("a1.b2.c3.d4.e55", "exact", 1),
    ("a1.b2.c3", "prefix", 2),
    ("a1.b2.c3.d4", "prefix", 3),
    ("a1.b2..d4.e5", "wildcard", 4),
    ("a1.b2.c3..e5", "wildcard", 5),
    ("a1.b2..d4.e5..g7", "wildcard", 6),
    ("a1.b2..d4..f6.g7", "wildcard", 7),
]:
    SPEC_TABLE.add(_pattern, _match, _value)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("a1.b2.c3.d4.e55", 1),
        ("a1.b2.c3.d98.e74", 2),
        ("a1.b2.c3.d4.e325", 3),
        ("a1.b2.c55.d4.e5", 4),
        # The spec says "no prefix match ... Use RPC 5", but prefix 3 ('a1.b2.c3.d4') is a
        # plain string prefix of this URI, and prefixes beat wildcards: an erratum in the
        # table. Without the prefixes, RPC 5 wins (test_spec_wildcard_rows_alone).
        ("a1.b2.c3.d4.e5", 3),
        ("a1.b2.c88.d4.e5.f6.g7", 6),
        ("a2.b2.c2.d2.e2", None),
    ],
)
def test_spec_resolution_table(uri: str, expected: int | None) -> None:
    """The examples of advanced/rpc_pattern_based_registration.md, one by one."""
    assert SPEC_TABLE.resolve(uri) == expected


def test_spec_wildcard_rows_alone() -> None:
    """The table's wildcard decisions, with the prefixes that shadow one row removed."""
    m = UriMatcher[int]()
    for pattern, value in [
        ("a1.b2..d4.e5", 4),
        ("a1.b2.c3..e5", 5),
        ("a1.b2..d4.e5..g7", 6),
        ("a1.b2..d4..f6.g7", 7),
    ]:
        m.add(pattern, "wildcard", value)
    assert m.resolve("a1.b2.c55.d4.e5") == 4
    assert m.resolve("a1.b2.c3.d4.e5") == 5  # longer first portion
    assert m.resolve("a1.b2.c88.d4.e5.f6.g7") == 6  # equal first, longer second portion
    assert m.resolve("a2.b2.c2.d2.e2") is None


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("a1.b2.c3.d4.e55", [1, 3, 2]),
        ("a1.b2.c3.d4.e5", [3, 2, 5, 4]),
        ("a1.b2.c88.d4.e5.f6.g7", [6, 7]),
        ("a1.b2.c55.d4.e5", [4]),
        ("a2", []),
    ],
)
def test_matches_in_resolution_order(uri: str, expected: list[int]) -> None:
    assert SPEC_TABLE.matches(uri) == expected


def test_wildcard_rank_prefers_longer_first_portion() -> None:
    m = UriMatcher[str]()
    m.add("a...d", "wildcard", "short")
    m.add("a.b..d", "wildcard", "long")
    m.add("...", "wildcard", "none")  # four empty components
    assert m.resolve("a.b.c.d") == "long"
    assert m.matches("a.b.c.d") == ["long", "short", "none"]
    assert m.resolve("x.y.z.w") == "none"
    assert m.resolve("x.y") is None  # no wildcard of that length


def test_matcher_add_get_remove() -> None:
    m = UriMatcher[str]()
    assert len(m) == 0
    m.add("com.a", "exact", "e")
    m.add("com.a", "prefix", "p")
    m.add("com.", "prefix", "p2")
    m.add("com.b", "prefix", "p3")  # same length as "com.a": shares a length bucket
    m.add("com..x", "wildcard", "w")
    assert len(m) == 5
    assert ("com.a", "exact") in m
    assert ("com.a", "prefix") in m
    assert ("com..x", "wildcard") in m
    assert ("com.a", "wildcard") not in m
    assert ("com.zz.q", "wildcard") not in m
    assert ("com.a", "regex") not in m
    assert ("com.a",) not in m
    assert "com.a" not in m
    assert (1, "exact") not in m
    assert (["x"], "exact") not in m
    assert m.get("com.a", "exact") == "e"
    assert m.get("com.a", "prefix") == "p"
    assert m.get("com..x", "wildcard") == "w"
    assert m.get("nope", "exact") is None
    assert sorted(m) == [
        ("com.", "prefix", "p2"),
        ("com..x", "wildcard", "w"),
        ("com.a", "exact", "e"),
        ("com.a", "prefix", "p"),
        ("com.b", "prefix", "p3"),
    ]
    assert "('com.a', 'exact')" in repr(m)

    assert m.resolve("com.a") == "e"
    assert m.resolve("com.a.b") == "p"
    assert m.resolve("com.c") == "p2"
    assert m.resolve("com.q.x") == "p2"  # prefix beats wildcard
    assert m.resolve("co") is None  # shorter than every prefix

    assert m.remove("com.a", "prefix") == "p"
    assert m.resolve("com.a.b") == "p2"
    assert m.resolve("com.b.c") == "p3"  # its length bucket survived the removal
    assert m.remove("com.b", "prefix") == "p3"
    assert m.remove("com.", "prefix") == "p2"
    assert m.resolve("com.q.x") == "w"
    assert m.remove("com..x", "wildcard") == "w"
    assert m.resolve("com.q.x") is None
    assert m.remove("com.a", "exact") == "e"
    assert len(m) == 0
    assert list(m) == []


def test_matcher_errors() -> None:
    m = UriMatcher[int]()
    m.add("a.b", "exact", 1)
    with pytest.raises(KeyError, match="already stored"):
        m.add("a.b", "exact", 2)
    with pytest.raises(KeyError, match="not stored"):
        m.remove("a.c", "exact")
    with pytest.raises(InvalidUriError, match="pattern"):
        m.add("a..b", "exact", 3)
    with pytest.raises(ValueError, match="match must be one of"):
        m.add("a.b", "fuzzy", 3)
    assert m.resolve("a.b") == 1


def test_matcher_wildcard_groups_share_length() -> None:
    m = UriMatcher[int]()
    m.add("a..c", "wildcard", 1)
    m.add("x..z", "wildcard", 2)
    assert m.remove("a..c", "wildcard") == 1
    assert m.resolve("x.y.z") == 2  # the group for three components is still there
    assert m.matches("a.b.c") == []


def test_matcher_clear() -> None:
    m = UriMatcher[int]()
    m.add("a", "exact", 1)
    m.add("a", "prefix", 2)
    m.add(".", "wildcard", 3)
    m.clear()
    assert len(m) == 0
    assert m.resolve("a") is None
    assert m.matches("a.b") == []
    m.add("a", "prefix", 4)  # length bookkeeping restarted cleanly
    assert m.resolve("ab") == 4


@given(
    st.lists(st.tuples(STRICT_URI, st.sampled_from(sorted(MATCH_POLICIES))), max_size=8), STRICT_URI
)
def test_matcher_agrees_with_match_uri(entries: list[tuple[str, str]], target: str) -> None:
    m = UriMatcher[tuple[str, str]]()
    stored = []
    for uri, match in entries:
        pattern = uri
        if match == "wildcard":  # blank every other component
            pattern = ".".join("" if i % 2 else p for i, p in enumerate(uri.split(".")))
        if (pattern, match) not in m:
            m.add(pattern, match, (pattern, match))
            stored.append((pattern, match))
    expected = {key for key in stored if match_uri(key[0], key[1], target)}
    found = m.matches(target)
    assert set(found) == expected
    assert len(found) == len(expected)
    assert m.resolve(target) == (found[0] if found else None)
