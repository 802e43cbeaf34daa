"""Property tests (Hypothesis) for the pure rules: the scope algebra, the
token format and its checksum, lifetimes and renewal clamping, cursors and
whole numbers, names, and error descriptions."""

import os
import re

import pytest
from authlib.oauth2.base import invalid_error_characters
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app import create_app, observability
from app.errors import MAX_DESCRIPTION, ScopegateError, safe_description
from app.services import apps, claims, lifetimes, passwords, revocations, scopes, secrets, users
from app.services.inputs import INT64_MAX, whole_number
from app.services.pagination import MAX_PAGE, page_size, parse_cursor
from sdk.auth.scopes import CATALOG

# `make test`: the same 200 examples every run; `make fuzz`: 5,000 random ones.
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("fuzz", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("SCOPEGATE_HYPOTHESIS", "ci"))

scope_sets = st.lists(st.sampled_from(CATALOG), unique=True)
any_text = st.text(st.characters(codec="utf-8"), max_size=120)


@pytest.fixture(scope="module")
def app_context():
    """Lifetimes read their limits from the app's settings; no database needed."""
    app = create_app({"TESTING": True, "SCOPEGATE_DATABASE_URL": "sqlite://",
                      "SCOPEGATE_SECRET_KEY": "property-tests"})
    with app.app_context():
        yield app


# --- scope algebra -------------------------------------------------------------


@given(scope_sets)
def test_normalize_is_idempotent_in_catalog_order_without_duplicates(requested):
    once = scopes.normalize(requested + requested)
    assert once == scopes.normalize(once) == [s for s in CATALOG if s in requested]


@given(scope_sets, st.text(min_size=1, max_size=30))
def test_a_name_outside_the_catalog_is_always_refused(requested, stranger):
    assume(stranger not in CATALOG and stranger.split())
    with pytest.raises(ScopegateError) as raised:
        scopes.normalize([*requested, stranger])
    assert raised.value.error == "invalid_scope"


@given(scope_sets.filter(bool), scope_sets)
def test_grantable_is_the_request_when_within_the_ceiling_else_refused(allowed, requested):
    if set(requested) <= set(allowed):
        granted = scopes.grantable(allowed, " ".join(requested) or None)
        assert set(granted) == (set(requested) or set(allowed))
    else:
        with pytest.raises(ScopegateError) as raised:
            scopes.grantable(allowed, requested)
        assert raised.value.error == "invalid_scope"


@given(scope_sets.filter(bool))
def test_an_empty_list_is_refused_but_no_scope_means_the_whole_ceiling(allowed):
    with pytest.raises(ScopegateError):
        scopes.grantable(allowed, [])
    assert scopes.grantable(allowed, None) == scopes.normalize(allowed) == scopes.ceiling(allowed)


def test_the_default_ceiling_is_the_whole_catalog():
    assert scopes.ceiling(None) == list(CATALOG)


@pytest.mark.parametrize("requested", [None, "", "   "])
def test_an_app_asking_for_no_scope_is_granted_none_not_refused(requested):
    assert scopes.app_scopes(requested) == []


# --- token format and checksum ---------------------------------------------------


@given(st.sampled_from([secrets.PERSONAL, secrets.SCOPED, secrets.CLIENT_SECRET]),
       st.data())
def test_any_single_character_change_breaks_the_checksum(prefix, data):
    value = secrets.generate(prefix)
    assert secrets.is_well_formed(value, prefix)
    at = data.draw(st.integers(4, len(value) - 1))
    # A shift through the alphabet, not a filter on the random value: Hypothesis
    # needs the same draws for the same data (else FlakyStrategyDefinition).
    alphabet = secrets._ALPHABET
    shift = data.draw(st.integers(1, len(alphabet) - 1))
    other = alphabet[(alphabet.index(value[at]) + shift) % len(alphabet)]
    assert not secrets.is_well_formed(value[:at] + other + value[at + 1:])


@given(any_text)
def test_the_parser_never_raises_and_accepts_only_its_own_shape(text):
    if secrets.is_well_formed(text):
        assert re.fullmatch(r"sg[pts]_[0-9A-Za-z]{39}", text)


@given(st.sampled_from([secrets.PERSONAL, secrets.SCOPED]))
def test_a_value_is_well_formed_only_for_its_own_prefix(prefix):
    value = secrets.generate(prefix)
    other = secrets.SCOPED if prefix == secrets.PERSONAL else secrets.PERSONAL
    assert not secrets.is_well_formed(value, other)


# --- lifetimes and renewal clamping ---------------------------------------------


kinds = st.sampled_from([lifetimes.SCOPED, lifetimes.PERSONAL])
seconds = st.integers(1, 10**12)


@given(kinds, seconds)
def test_a_new_token_never_outlives_the_maximum(app_context, kind, expires_in):
    maximum = lifetimes.max_lifetime(kind)
    if expires_in <= maximum:
        assert lifetimes.lifetime(kind, expires_in) == expires_in
    else:
        with pytest.raises(ScopegateError):
            lifetimes.lifetime(kind, expires_in)
    assert 0 < lifetimes.lifetime(kind, None) <= maximum


@given(kinds, st.integers(0, 10**10), st.integers(0, 10**8), st.none() | seconds)
def test_renewal_never_passes_issue_time_plus_maximum(app_context, kind, issued, age,
                                                      expires_in):
    at = issued + age
    expiry, clamped = lifetimes.renewed_expiry(kind, issued, at, expires_in)
    cap = issued + lifetimes.max_lifetime(kind)
    assert expiry <= cap
    wanted = at + (expires_in if expires_in is not None else
                   lifetimes._limits(kind)[0])
    assert clamped == (wanted > cap)
    assert expiry == (cap if clamped else wanted)


@given(kinds, st.integers(0, 10**10), st.integers(0, 10**8))
def test_renewable_until_the_expiry_reaches_the_cap(app_context, kind, issued, lived):
    expires = issued + lived
    assert lifetimes.renewable(kind, issued, expires) == (
        expires < issued + lifetimes.max_lifetime(kind))


@given(kinds, st.integers(max_value=0) | st.booleans() | st.floats() | st.text())
def test_a_lifetime_that_is_no_positive_integer_is_refused(app_context, kind, expires_in):
    with pytest.raises(ScopegateError):
        lifetimes.lifetime(kind, expires_in)


@pytest.mark.parametrize("kind", [lifetimes.SCOPED, lifetimes.PERSONAL])
def test_one_second_and_the_maximum_itself_are_valid_lifetimes(app_context, kind):
    maximum = lifetimes.max_lifetime(kind)
    assert lifetimes.lifetime(kind, 1) == 1
    assert lifetimes.lifetime(kind, maximum) == maximum
    for refused in (0, maximum + 1):
        with pytest.raises(ScopegateError):
            lifetimes.lifetime(kind, refused)


@pytest.mark.parametrize("kind", [lifetimes.SCOPED, lifetimes.PERSONAL])
def test_a_renewal_that_lands_on_the_cap_is_not_clamped(app_context, kind):
    issued, at = 1000, 1005
    cap = issued + lifetimes.max_lifetime(kind)
    assert lifetimes.renewed_expiry(kind, issued, at, cap - at) == (cap, False)
    assert lifetimes.renewed_expiry(kind, issued, at, cap - at + 1) == (cap, True)


# --- cursors and whole numbers ----------------------------------------------------


@given(st.integers(0, INT64_MAX))
def test_every_64_bit_cursor_round_trips(number):
    assert parse_cursor(str(number)) == number == whole_number(str(number), "n")


@given(any_text)
def test_any_other_text_is_a_422_never_a_crash(text):
    try:
        number = whole_number(text, "n")
    except ScopegateError as error:
        assert error.status_code == 422
    else:
        assert text.isascii() and text.isdigit() and 0 <= number <= INT64_MAX


@given(st.integers(INT64_MAX + 1, 10**40))
def test_numbers_past_64_bits_are_refused(number):
    with pytest.raises(ScopegateError):
        parse_cursor(str(number))


@pytest.mark.parametrize("limit", [True, False, 0, MAX_PAGE + 1, "10", 1.0])
def test_a_page_size_is_an_integer_from_1_to_the_maximum_never_a_bool(app_context, limit):
    with pytest.raises(ScopegateError) as raised:
        page_size(limit)
    assert raised.value.status_code == 422


# --- names ------------------------------------------------------------------------


@given(st.from_regex(users.NAME_RE, fullmatch=True))
def test_every_name_the_rule_allows_is_accepted(name):
    assert users._check_name(name) == name


@given(any_text | st.integers() | st.none())
def test_a_name_is_short_printable_ascii_or_refused_with_422(name):
    try:
        users._check_name(name)
    except ScopegateError as error:
        assert error.status_code == 422
    else:
        assert 1 <= len(name) <= 100 and name.isascii() and name[0].isalnum()
        assert not set(name) & set(" \"'\\/\t\n")


# --- error descriptions -------------------------------------------------------------


@given(st.text(max_size=1000))
def test_any_description_is_accepted_by_authlib(text):
    safe = safe_description(text)
    assert not invalid_error_characters(safe)
    assert len(safe) <= MAX_DESCRIPTION
    ScopegateError(text)  # never raises


# --- request rate limit counters ------------------------------------------------

limit_steps = st.lists(st.tuples(st.floats(0, 25, allow_nan=False),
                                 st.sampled_from(["hit", "test"]),
                                 st.sampled_from(["caller-a", "caller-b"])), max_size=80)


@given(limit_steps, st.sampled_from(["5/10 seconds", "1/10 seconds", "0/10 seconds"]))
def test_the_request_limit_counters_decide_as_limits_stock_sliding_window(steps, limit):
    """throttle.MemoryCounters keeps its own compact windows: every hit, test and
    window statistic equals what limits' stock memory storage answers (a limit of
    one and of none included)."""
    from unittest import mock

    from limits import parse, storage, strategies

    from app.services.throttle import MemoryCounters

    clock = [1_700_000_000.0]
    item = parse(limit)
    with mock.patch("time.time", lambda: clock[0]):
        ours = strategies.SlidingWindowCounterRateLimiter(MemoryCounters())
        stock = strategies.SlidingWindowCounterRateLimiter(storage.MemoryStorage())
        for advance, operation, key in steps:
            clock[0] += advance
            assert getattr(ours, operation)(item, key) == getattr(stock, operation)(item, key)
            assert ours.get_window_stats(item, key) == stock.get_window_stats(item, key)


@given(st.lists(st.tuples(st.floats(0, 25, allow_nan=False),
                          st.lists(st.tuples(st.sampled_from(["a", "b", "c"]),
                                             st.sampled_from([0, 1, 3]), st.booleans()),
                                   min_size=1, max_size=4)), max_size=40))
def test_admitting_a_requests_limits_at_once_decides_as_one_by_one(requests):
    """``MemoryCounters.admit`` (the fast path's limits, under one lock) counts and
    refuses exactly as the strategy's hit and test would, in order, stopping at the
    first refusal."""
    from unittest import mock

    from limits import RateLimitItemPerSecond, strategies

    from app.services.throttle import MemoryCounters

    clock = [1_700_000_000.0]
    with mock.patch("time.time", lambda: clock[0]):
        ours, theirs = MemoryCounters(), MemoryCounters()
        strategy = strategies.SlidingWindowCounterRateLimiter(theirs)
        for advance, checks in requests:
            clock[0] += advance
            items = [(RateLimitItemPerSecond(limit, 10), key, count)
                     for key, limit, count in checks]
            expected = -1
            for index, (item, key, count) in enumerate(items):
                allowed = (strategy.hit if count else strategy.test)(item, key)
                if not allowed:
                    expected = index
                    break
            admitted = ours.admit(tuple((item.key_for(key), item.amount, item.get_expiry(), count)
                                        for item, key, count in items))
            assert admitted == expected
            for item, key, _ in items:
                assert ours.get_sliding_window(item.key_for(key), 10) == \
                    theirs.get_sliding_window(item.key_for(key), 10)


@given(st.text(max_size=64))
def test_no_password_verifies_against_an_account_without_one(password):
    """An invited person has no hash until they choose a password."""
    assert passwords.verify_password(None, password) is False
    assert passwords.verify_password("", password) is False


def _accepted(check):
    def accepts(value: str) -> bool:
        try:
            return check(value) is not False
        except ScopegateError:
            return False
    return accepts


@pytest.mark.parametrize("accepts, value", [
    (_accepted(users._check_name), "demo-user"),
    (apps.is_client_id, "app-0123456789abcdef"),
    (claims.looks_like_jwt, "aa.bb.cc"),
    (_accepted(revocations._position), "12.34"),
    (lambda v: observability.request_id(v) == v, "req-123"),
], ids=["name", "client_id", "jwt", "cursor", "request_id"])
def test_no_shape_check_accepts_a_trailing_newline(accepts, value):
    """A regular expression's ``$`` matches before a final newline too (found by
    `make fuzz` in user names): every shape check matches the whole value."""
    assert accepts(value)
    assert not accepts(value + "\n")
