"""The Crossbar.io node configuration used by the integration tests, built in Python.

A builder rather than a static ``config.json`` because the ports, the Unix socket
paths and the TLS files change with every node. :func:`prepare_node_dir` makes the
node directory once (TLS files + ``config.json``); restarting the node reuses it.

Two realms. ``realm1`` (roles ``anonymous`` and ``user``: everything allowed) is
where most tests work. ``realm2`` (:data:`REALM2`) has its own roles: ``anonymous``
(everything allowed) and ``guest`` (may call and subscribe, may not register or
publish), and its own principal: ``mary`` (principal name ``realm2``, a cryptosign
key), whose ``realm`` puts her in realm2 whatever realm her HELLO names.

Every transport (WebSocket and RawSocket, each on TCP, on a Unix socket and on TLS)
offers every authentication method at once: the router picks the first method in
the client's ``HELLO.Details.authmethods`` that the transport has. The principals
and their credentials are in :func:`principals` (what a client needs) and
:func:`auth_config` (what the router stores); :data:`WRONG_CREDENTIALS` holds one
rejected credential per method.

The same file starts Crossbar.io and our router (``python -m wamp_anyio serve
--config``): see ``tests/integration/our_node.py``.

Crossbar's conventions, read from its source (``crossbar/router/auth/*.py``):

* WAMP-CRA salted: ``users[authid].secret`` is the *password*; Crossbar derives the
  key itself (PBKDF2-HMAC-SHA256 with ``salt``/``iterations``/``keylen``) and sends
  those three in CHALLENGE.Extra.
* SCRAM (authmethod ``scram``): the principal holds ``kdf``, ``iterations``,
  ``memory``, ``salt`` (*hex* of the raw salt, sent base64 in CHALLENGE),
  ``stored-key`` and ``server-key`` (hex). The values here are the ``crossbar``
  vector of ``shared/vectors/auth.json``.
* Cryptosign: ``principals[authid].authorized_keys`` lists hex Ed25519 public keys.
"""

from __future__ import annotations

import base64
import copy
import datetime
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_MESSAGE_SIZE",
    "REALM",
    "REALM2",
    "SERIALIZERS",
    "WRONG_CREDENTIALS",
    "Endpoints",
    "TlsFiles",
    "auth_config",
    "build_config",
    "cryptosign_public_key",
    "make_tls_files",
    "prepare_node_dir",
    "principals",
    "realm2_config",
    "realm_config",
]

REALM = "realm1"
REALM2 = "realm2"
SERIALIZERS = ["json", "msgpack", "cbor"]
MAX_MESSAGE_SIZE = 16 * 1024 * 1024  # RawSocket's protocol maximum

# Fixed Ed25519 seeds (sha256 of a label), so the node config is reproducible.
ALICE_SEED = "8d50c4ee2414a2a05a575cdb08094957dd4693d7a51be75cd4da3f3348617872"
INTRUDER_SEED = "1b813df4726a8ad2e67fc5c09567d5456d491c6c5f8d481f08be44bfe440c643"
MARY_SEED = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"

# The "crossbar" SCRAM vector of shared/vectors/auth.json (kept here so that the node
# does not depend on the vectors being beside the checkout).
SCRAM_SALT_B64 = "MDEyMzQ1Njc4OWFiY2RlZg=="
SCRAM_STORED_KEY = "fe46b0b334853ffb8f009b364d5f0149631b6d983ef967c7a6cc07f63fa772bb"
SCRAM_SERVER_KEY = "0f3b4896a016b4a4a4271fc942ee27a91bb8d3e58105083be4175cf385d4b0b6"

_PRINCIPALS: dict[str, dict[str, Any]] = {
    "anonymous": {"authmethod": "anonymous", "authid": None, "role": "anonymous"},
    "ticket": {"authmethod": "ticket", "authid": "joe", "ticket": "joe-4711", "role": "user"},
    "wampcra": {"authmethod": "wampcra", "authid": "peter", "secret": "secret1", "role": "user"},
    "wampcra_salted": {
        "authmethod": "wampcra",
        "authid": "paula",
        "secret": "secret2",
        "salt": "salt123",
        "iterations": 100,
        "keylen": 16,
        "derived_key": "LG5/FwnS5WvgmlEyLPk/pQ==",  # what the client signs with (auth.json)
        "role": "user",
    },
    "cryptosign": {
        "authmethod": "cryptosign",
        "authid": "alice",
        "private_seed_hex": ALICE_SEED,
        "role": "user",
    },
    "scram": {
        "authmethod": "scram",
        "authid": "scramuser@example.com",
        "password": "scrampass",
        "kdf": "argon2id-13",
        "iterations": 4096,
        "memory": 512,
        "salt": SCRAM_SALT_B64,
        "role": "user",
    },
    # The principal of realm2: her "realm" assigns the realm (Crossbar.io accepts a
    # "realm" in static cryptosign principals, not in ticket ones).
    "realm2": {
        "authmethod": "cryptosign",
        "authid": "mary",
        "private_seed_hex": MARY_SEED,
        "role": "guest",
        "realm": REALM2,
    },
}

# Per principal name: the same principal with one wrong credential (Crossbar rejects it).
WRONG_CREDENTIALS: dict[str, dict[str, Any]] = {
    "ticket": {"ticket": "not-joes-ticket"},
    "wampcra": {"secret": "secret1-wrong"},
    "wampcra_salted": {"secret": "secret3"},
    "cryptosign": {"private_seed_hex": INTRUDER_SEED},  # a key not in alice's authorized_keys
    "scram": {"password": "not-scrampass"},
}


def cryptosign_public_key(seed_hex: str) -> str:
    """The hex Ed25519 public key of a 32-byte hex seed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def principals(*, wrong: bool = False) -> dict[str, dict[str, Any]]:
    """name -> what a client needs: authmethod, authid, the credential, and role.

    With ``wrong``, the principals of :data:`WRONG_CREDENTIALS` with their wrong
    credential (anonymous has none, so it is left out).
    """
    out = copy.deepcopy(_PRINCIPALS)
    if wrong:
        out = {name: {**out[name], **bad} for name, bad in WRONG_CREDENTIALS.items()}
    for entry in out.values():
        if entry["authmethod"] == "cryptosign":
            entry["public_key_hex"] = cryptosign_public_key(entry["private_seed_hex"])
    return out


def auth_config() -> dict[str, Any]:
    """The ``auth`` item of every transport: all five methods, static principals."""
    p = _PRINCIPALS
    ticket, cra, salted = p["ticket"], p["wampcra"], p["wampcra_salted"]
    cs, scram, mary = p["cryptosign"], p["scram"], p["realm2"]
    return {
        "anonymous": {"type": "static", "role": "anonymous"},
        "ticket": {
            "type": "static",
            "principals": {ticket["authid"]: {"ticket": ticket["ticket"], "role": ticket["role"]}},
        },
        "wampcra": {
            "type": "static",
            "users": {
                cra["authid"]: {"secret": cra["secret"], "role": cra["role"]},
                # Crossbar wants the password here and derives the key itself.
                salted["authid"]: {
                    "secret": salted["secret"],
                    "salt": salted["salt"],
                    "iterations": salted["iterations"],
                    "keylen": salted["keylen"],
                    "role": salted["role"],
                },
            },
        },
        "cryptosign": {
            "type": "static",
            "principals": {
                cs["authid"]: {
                    "authorized_keys": [cryptosign_public_key(cs["private_seed_hex"])],
                    "role": cs["role"],
                },
                mary["authid"]: {
                    "authorized_keys": [cryptosign_public_key(mary["private_seed_hex"])],
                    "role": mary["role"],
                    "realm": mary["realm"],
                },
            },
        },
        "scram": {
            "type": "static",
            "principals": {
                scram["authid"]: {
                    "kdf": scram["kdf"],
                    "iterations": scram["iterations"],
                    "memory": scram["memory"],
                    "salt": base64.b64decode(scram["salt"]).hex(),  # Crossbar wants hex
                    "stored-key": SCRAM_STORED_KEY,
                    "server-key": SCRAM_SERVER_KEY,
                    "role": scram["role"],
                },
            },
        },
    }


def _permission(*actions: str) -> dict[str, Any]:
    """Every URI (prefix ""), the given actions allowed, identities disclosed."""
    return {
        "uri": "",
        "match": "prefix",
        "allow": {
            action: action in actions for action in ("call", "register", "publish", "subscribe")
        },
        "disclose": {"caller": True, "publisher": True},
        "cache": True,
    }


EVERY_ACTION = ("call", "register", "publish", "subscribe")


def realm_config() -> dict[str, Any]:
    """realm1 with roles ``anonymous`` and ``user``: everything allowed, identities disclosed.

    Disclosure comes from the role (``disclose``), so INVOCATION.Details.caller and
    EVENT.Details.publisher arrive without the client asking. Retention, the meta
    API, progressive results, canceling, call timeouts, shared and pattern-based
    registrations need nothing more: Crossbar's router has them on by default.
    """
    return {
        "name": REALM,
        "roles": [
            {"name": name, "permissions": [_permission(*EVERY_ACTION)]}
            for name in ("anonymous", "user")
        ],
    }


def realm2_config() -> dict[str, Any]:
    """realm2: ``anonymous`` may do everything, ``guest`` (mary) only call and subscribe."""
    return {
        "name": REALM2,
        "roles": [
            {"name": "anonymous", "permissions": [_permission(*EVERY_ACTION)]},
            {"name": "guest", "permissions": [_permission("call", "subscribe")]},
        ],
    }


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA clients must trust, and the server's certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class Endpoints:
    """Where the node listens: loopback TCP ports and Unix socket paths."""

    ws_port: int
    rs_port: int
    wss_port: int
    rss_port: int
    ws_socket: Path
    rs_socket: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """A throw-away CA and a server certificate for ``localhost`` and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wamp-sansio test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )

    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key_file.chmod(0o600)
    return files


def _websocket(port_or_socket: int | Path, tls: TlsFiles | None) -> dict[str, Any]:
    """A web transport with the WAMP WebSocket at ``/ws``."""
    return {
        "type": "web",
        "endpoint": _endpoint(port_or_socket, tls),
        "paths": {
            "ws": {
                "type": "websocket",
                "serializers": list(SERIALIZERS),
                "auth": auth_config(),
                "options": {
                    "max_message_size": MAX_MESSAGE_SIZE,
                    "max_frame_size": MAX_MESSAGE_SIZE,
                },
            },
        },
    }


def _rawsocket(port_or_socket: int | Path, tls: TlsFiles | None) -> dict[str, Any]:
    return {
        "type": "rawsocket",
        "endpoint": _endpoint(port_or_socket, tls),
        "serializers": list(SERIALIZERS),
        "auth": auth_config(),
        "options": {"max_message_size": MAX_MESSAGE_SIZE},
    }


def _endpoint(where: int | Path, tls: TlsFiles | None) -> dict[str, Any]:
    if isinstance(where, Path):
        return {"type": "unix", "path": str(where)}
    endpoint: dict[str, Any] = {"type": "tcp", "interface": "127.0.0.1", "port": where}
    if tls is not None:
        endpoint["tls"] = {"key": str(tls.key_file), "certificate": str(tls.cert_file)}
    return endpoint


def build_config(endpoints: Endpoints, tls: TlsFiles) -> dict[str, Any]:
    """The node configuration (``config.json``): one router worker, two realms, six
    transports."""
    return {
        "$schema": "https://raw.githubusercontent.com/crossbario/crossbar/master/crossbar.json",
        "version": 2,
        "controller": {"options": {"shutdown": ["shutdown_on_worker_exit"]}},
        "workers": [
            {
                "type": "router",
                "realms": [realm_config(), realm2_config()],
                "transports": [
                    _websocket(endpoints.ws_port, None),
                    _rawsocket(endpoints.rs_port, None),
                    _websocket(endpoints.ws_socket, None),
                    _rawsocket(endpoints.rs_socket, None),
                    _websocket(endpoints.wss_port, tls),
                    _rawsocket(endpoints.rss_port, tls),
                ],
            }
        ],
    }


def prepare_node_dir(node_dir: Path, endpoints: Endpoints) -> TlsFiles:
    """Write the TLS files and ``config.json`` into ``node_dir`` (the ``--cbdir``)."""
    node_dir.mkdir(parents=True, exist_ok=True)
    tls = make_tls_files(node_dir / "tls")
    config = build_config(endpoints, tls)
    (node_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return tls
