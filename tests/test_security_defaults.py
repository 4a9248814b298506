"""Security defaults, per adapter: a client with default settings refuses a router whose
certificate it cannot verify (and connects once given the CA), over wss and rss, on
asyncio, trio and Twisted; cryptosign bound to the TLS channel (tls-unique) through our
router over TLS; and no secret (ticket, WAMP-CRA secret, SCRAM password, salt and keys,
cryptosign private key; as text, hex and base64) appears in the log (DEBUG, client and
router), in the reprs of the sessions, authenticators and router objects, or in the text
of the exceptions a wrong credential raises."""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

import wamp_anyio
from tests.crossbar.config import TlsFiles, make_tls_files
from wamp_anyio import Listen
from wamp_core.auth import CryptosignKey, create_authenticator, scram_salted_password
from wamp_core.exception import ApplicationError
from wamp_core.router import ALLOW_ALL, ListenerConfig, RealmConfig, Role, TcpEndpoint
from wamp_core.router.auth import scram_principal, wampcra_principal

TIMEOUT = 20.0
TICKET = "tkt-Q9xZ7m"
CRA_SECRET = "cra-S3cr3t-Wv"
PASSWORD = "scram-P4ss-Vk"
SALT = b"salt-K8yY-salt!!"
SEED = bytes(range(64, 96))
KEY = CryptosignKey.from_seed(SEED)
SCRAM = scram_principal(PASSWORD, SALT, kdf="pbkdf2", iterations=4096, role="user")
AUTH: dict[str, Any] = {
    "ticket": {"type": "static", "principals": {"joe": {"ticket": TICKET, "role": "user"}}},
    "wampcra": {
        "type": "static",
        "users": {"ann": {**wampcra_principal(CRA_SECRET), "role": "user"}},
    },
    "cryptosign": {
        "type": "static",
        "principals": {"cy": {"authorized_keys": [KEY.public_key_hex()], "role": "user"}},
    },
    "scram": {"type": "static", "principals": {"sam": SCRAM}},
}
RIGHT: dict[str, dict[str, Any]] = {
    "ticket": {"authid": "joe", "ticket": TICKET},
    "wampcra": {"authid": "ann", "secret": CRA_SECRET},
    "cryptosign": {"authid": "cy", "privkey": SEED.hex()},
    "scram": {"authid": "sam", "password": PASSWORD},
}
WRONG_SEED = bytes(range(150, 182))
WRONG: dict[str, dict[str, Any]] = {
    "ticket": {"authid": "joe", "ticket": "tkt-wrong-J2p"},
    "wampcra": {"authid": "ann", "secret": "cra-wrong-Hq4"},
    "cryptosign": {"authid": "cy", "privkey": WRONG_SEED.hex()},
    "scram": {"authid": "sam", "password": "scram-wrong-Zt"},
}
REALMS = (RealmConfig("realm1"), RealmConfig("secure", (Role("user", (ALLOW_ALL,)),)))


def _forms(secret: bytes) -> list[str]:
    """A secret as text (when it is), hex (both cases) and base64 (with and without
    padding, and URL-safe)."""
    forms = [secret.hex(), secret.hex().upper()]
    for encoded in (base64.b64encode(secret), base64.urlsafe_b64encode(secret)):
        text = encoded.decode()
        forms += [text, text.rstrip("=")]
    with suppress(UnicodeDecodeError):
        forms.append(secret.decode("ascii"))
    return forms


def secrets() -> dict[str, list[str]]:
    salted = scram_salted_password(
        PASSWORD, base64.b64encode(SALT).decode(), "pbkdf2", 4096, None, convention="crossbar"
    )
    named: dict[str, bytes] = {
        "ticket": TICKET.encode(),
        "wrong ticket": WRONG["ticket"]["ticket"].encode(),
        "wampcra secret": CRA_SECRET.encode(),
        "wrong wampcra secret": WRONG["wampcra"]["secret"].encode(),
        "scram password": PASSWORD.encode(),
        "wrong scram password": WRONG["scram"]["password"].encode(),
        "scram salt": SALT,
        "scram salted password": salted,
        "scram stored key": bytes.fromhex(SCRAM["stored-key"]),
        "scram server key": bytes.fromhex(SCRAM["server-key"]),
        "cryptosign seed": SEED,
        "wrong cryptosign seed": WRONG_SEED,
    }
    return {name: _forms(value) for name, value in named.items()}


def leaks(texts: list[str]) -> list[tuple[str, str]]:
    """(secret name, the text it was found in) for every secret in ``texts``."""
    found = []
    for name, forms in secrets().items():
        for text in texts:
            if any(form in text for form in forms):
                found.append((name, text[:300]))
    return found


def exception_texts(error: BaseException) -> list[str]:
    texts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(texts) < 20:
        texts += [str(seen), repr(seen), repr(getattr(seen, "args", ()))]
        seen = seen.__cause__ or seen.__context__
    return texts


# -- TLS: verification on by default ---------------------------------------------------------


def _server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert_file, files.key_file)
    return context


def _tls_listens(files: TlsFiles, auth: dict[str, Any] | None = None) -> list[Listen]:
    options: dict[str, Any] = {} if auth is None else {"auth": auth}
    context = _server_context(files)
    return [
        Listen("websocket", port=0, tls=context, **options),
        Listen("rawsocket", port=0, tls=context, **options),
    ]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
async def test_anyio_clients_verify_the_router_certificate_by_default(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    trusting = ssl.create_default_context(cafile=str(files.ca_file))
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.serve(_tls_listens(files)) as server:
            assert [url.split(":")[0] for url in server.urls] == ["wss", "rss"]
            for url in server.urls:
                with pytest.raises(ssl.SSLCertVerificationError):
                    async with wamp_anyio.connect(url, "realm1"):
                        pass
                async with wamp_anyio.connect(url, "realm1", ssl=trusting) as session:
                    assert await session.call("wamp.session.count") == 1


@pytest.mark.anyio
async def test_cryptosign_bound_to_the_tls_channel_through_our_router(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    trusting = ssl.create_default_context(cafile=str(files.ca_file))
    bound = {"cryptosign": {**RIGHT["cryptosign"], "channel_binding": "tls-unique"}}
    listens = _tls_listens(files, {"cryptosign": AUTH["cryptosign"]})
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.serve(listens, REALMS) as server:
            for url in server.urls:
                async with wamp_anyio.connect(
                    url, "secure", ssl=trusting, authentication=bound
                ) as session:
                    assert session.details is not None
                    assert (session.details.authid, session.details.authmethod) == (
                        "cy",
                        "cryptosign",
                    )
                    # The router checked the signature over its own view of the channel.
                    connection = next(
                        c
                        for c in server.router.connections
                        if c.session is not None and c.session.authid == "cy"
                    )
                    assert connection.channel_id is not None and len(connection.channel_id) > 0


@pytest.fixture(scope="session")
def reactor_thread() -> Iterator[Any]:
    from tests.integration.twisted_reactor import ReactorThread

    thread = ReactorThread.shared()
    yield thread
    thread.stop()


def test_twisted_clients_verify_the_router_certificate_by_default(
    reactor_thread: Any, tmp_path: Path
) -> None:
    from twisted.internet.ssl import Certificate, optionsForClientTLS

    from tests.integration import twisted_client
    from wamp_twisted import ApplicationRunner

    files = make_tls_files(tmp_path)
    trusting = optionsForClientTLS(
        "127.0.0.1", trustRoot=Certificate.loadPEM(files.ca_file.read_bytes())
    )
    bound = {"cryptosign": {**RIGHT["cryptosign"], "channel_binding": "tls-unique"}}

    async def refusal(url: str) -> BaseException | None:
        runner = ApplicationRunner(url, "secure")  # default TLS settings
        proto = await runner.run(twisted_client.Client, start_reactor=False)
        await proto.session.disconnected.wait()
        assert not proto.session.joined.is_set
        return proto.open_error  # type: ignore[no-any-return]

    async def joined(url: str) -> str:
        async with twisted_client.connect(
            url, realm="secure", ssl=trusting, authentication=bound
        ) as session:
            assert session.details is not None
            return f"{session.details.authid}/{session.details.authmethod}"

    listens = _tls_listens(files, {"cryptosign": AUTH["cryptosign"]})
    # Our router, served by wamp_anyio in a thread of its own; the clients on Twisted's.
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(wamp_anyio.serve(listens, REALMS)) as server,
    ):
        for url in server.urls:
            refused = reactor_thread.run(refusal, url, timeout=TIMEOUT)
            assert "certificate verify failed" in str(refused)
            # Verified, and cryptosign bound to Twisted's view of the TLS channel.
            assert reactor_thread.run(joined, url, timeout=TIMEOUT) == "cy/cryptosign"


# -- secrets never shown ------------------------------------------------------------------------


@asynccontextmanager
async def _secure_router() -> AsyncIterator[Any]:
    listens = [Listen("rawsocket", port=0, auth=AUTH), Listen("websocket", port=0, auth=AUTH)]
    async with wamp_anyio.serve(listens, REALMS) as server:
        yield server


@pytest.mark.anyio
async def test_no_secret_in_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with anyio.fail_after(TIMEOUT):
        async with _secure_router() as server:
            texts += [repr(server.router), repr(server), *map(repr, server.urls)]
            for url in server.urls:
                for method in AUTH:
                    async with wamp_anyio.connect(
                        url, "secure", authentication={method: RIGHT[method]}
                    ) as session:
                        texts += [repr(session), repr(session.details), str(session.details)]
                        texts += [repr(c) for c in server.router.connections]
                        texts += [
                            repr(s) for r in server.router.realms.values() for s in _sessions(r)
                        ]
                    with pytest.raises(ApplicationError) as refused:
                        async with wamp_anyio.connect(
                            url, "secure", authentication={method: WRONG[method]}
                        ):
                            pass
                    assert refused.value.error == "wamp.error.not_authorized"
                    texts += exception_texts(refused.value)
    for method in AUTH:
        for credentials in (RIGHT[method], WRONG[method]):
            authenticator = create_authenticator(method, **credentials)
            texts += [repr(authenticator), str(authenticator)]
    texts += [repr(KEY), str(KEY)]
    # The router's configuration objects (the principals are in their auth).
    texts += [repr(Listen("rawsocket", auth=AUTH)), repr(Listen(paths={"/ws": AUTH}))]
    endpoint = TcpEndpoint(8080)
    texts += [repr(ListenerConfig("rawsocket", endpoint, ("json",), auth=AUTH))]
    texts += [repr(ListenerConfig("websocket", endpoint, ("json",), paths={"/": AUTH}))]
    logged = [record.getMessage() for record in caplog.records]
    logged += [str(record.args) for record in caplog.records]
    assert len(logged) > 10  # the joins were logged at all
    assert not leaks(texts + logged)


def _sessions(realm: Any) -> list[Any]:
    sessions = getattr(realm, "sessions", {})
    return list(sessions.values()) if isinstance(sessions, dict) else list(sessions)


def test_the_grep_finds_each_form() -> None:
    """The check above would see a secret in any of its forms."""
    for forms in secrets().values():
        for form in forms:
            assert leaks([f"... {form} ..."])
    assert not leaks(["nothing to see"])
