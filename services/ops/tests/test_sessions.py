"""Sessions (in a fake of their store): a signed cookie names one, it ends at its time, on
sign-out, or when its key is revoked; a role changed on the key is seen at the next request;
the store holds neither the session id nor the API key in clear."""

from __future__ import annotations

import pytest
from dunning_core.contracts.access import Principal, Role
from dunning_core.runtime.auth import AuthError, unauthorized
from dunning_ops.domain import sessions as cookies
from dunning_ops.sessions import Sessions, store_key
from dunning_testkit.ops import FakeSessionStore


class Keys:
    def __init__(self) -> None:
        self.role: Role | None = Role.AGENT

    async def verify(self, key: str | None) -> Principal:
        if key != "dun_0123456789ab_" + "k" * 24 or self.role is None:
            raise unauthorized("unknown API key")
        return Principal(key_id="0123456789ab", name="ops-jo", role=self.role)


KEY = "dun_0123456789ab_" + "k" * 24
SIGNING = b"sixteen-bytes-or-more-of-key"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_a_session_lasts_its_time_and_no_longer() -> None:
    clock = Clock()
    sessions = Sessions(Keys(), FakeSessionStore(now=clock), SIGNING, ttl_s=60, now=clock)
    cookie, session = await sessions.sign_in(f"  {KEY}\n")  # pasted with spaces
    assert session.key == KEY
    assert (await sessions.current(cookie)) == session
    clock.t += 59
    assert (await sessions.current(cookie)) is not None
    clock.t += 1
    assert (await sessions.current(cookie)) is None


async def test_sign_out_and_another_key_and_forgery() -> None:
    store = FakeSessionStore()
    sessions = Sessions(Keys(), store, SIGNING, ttl_s=60)
    cookie, _ = await sessions.sign_in(KEY)
    other = Sessions(Keys(), store, b"another-signing-key-entirely", ttl_s=60)
    assert (await other.current(cookie)) is None  # signed under another key
    assert cookies.verify(cookie + "0", SIGNING) is None
    assert cookies.verify("no-dot", SIGNING) is None
    await sessions.sign_out(cookie)
    assert (await sessions.current(cookie)) is None
    assert store.values == {}


async def test_revocation_ends_and_a_new_role_follows_the_key() -> None:
    keys = Keys()
    sessions = Sessions(keys, FakeSessionStore(), SIGNING, ttl_s=60)
    cookie, _ = await sessions.sign_in(KEY)
    keys.role = Role.READ_ONLY
    current = await sessions.current(cookie)
    assert current is not None
    assert current.principal.role is Role.READ_ONLY
    keys.role = None
    assert (await sessions.current(cookie)) is None


async def test_a_bad_key_makes_no_session() -> None:
    sessions = Sessions(Keys(), FakeSessionStore(), SIGNING, ttl_s=60)
    with pytest.raises(AuthError) as refused:
        await sessions.sign_in("dun_0123456789ab_" + "x" * 24)
    assert refused.value.status_code == 401


async def test_the_store_holds_no_session_id_and_no_key_in_clear() -> None:
    store = FakeSessionStore()
    sessions = Sessions(Keys(), store, SIGNING, ttl_s=60)
    cookie, session = await sessions.sign_in(KEY)
    [(filed, (value, _))] = store.values.items()
    assert filed == store_key(session.id) != session.id
    assert session.id.encode() not in value
    assert KEY.encode() not in value
    assert b"k" * 24 not in value
    assert session.csrf.encode() not in value
    # A replica (another Sessions on the same store and signing key) sees the session.
    again = await Sessions(Keys(), store, SIGNING, ttl_s=60).current(cookie)
    assert again == session


async def test_a_tampered_stored_session_is_no_session() -> None:
    store = FakeSessionStore()
    sessions = Sessions(Keys(), store, SIGNING, ttl_s=60)
    cookie, session = await sessions.sign_in(KEY)
    filed = store_key(session.id)
    value, until = store.values[filed]
    store.values[filed] = (value.replace(b'"key":"', b'"key":"A'), until)
    assert (await sessions.current(cookie)) is None
