"""What wamp_core does today, end to end without any I/O.

1. Messages travel through each serializer and come back validated.
2. A malformed message from a peer is rejected with an error that says what broke.
3. The client authenticators answer real challenges (WAMP-CRA, cryptosign, SCRAM).
"""

from __future__ import annotations

import json

from wamp_core import ProtocolError, auth
from wamp_core.messages import Call, Event, parse
from wamp_core.serializers import get_serializer


def codecs() -> None:
    print("== 1. one CALL through every serializer")
    call = Call(
        1, "com.example.add2", args=[2, 3], kwargs={"blob": b"\x00\x01"}, options={"timeout": 1000}
    )
    for name in ("json", "msgpack", "cbor", "msgpack.batched"):
        codec = get_serializer(name)
        data = codec.encode(call)
        (back,) = codec.decode(data)
        shown = data.decode() if name == "json" else data.hex()
        print(f"  {codec.subprotocol:22} {len(data):3} bytes  {shown[:70]}")
        assert back == call


def validation() -> None:
    print("== 2. strict validation of what the router sends")
    for wmsg in ([36, 1, 2, {"publisher": "alice"}, []], [50, 0, {}], [8, 49, 1, {}, "x"]):
        try:
            parse(wmsg)
        except ProtocolError as exc:
            print(f"  {json.dumps(wmsg):40} -> ProtocolError: {exc}")
    event = parse([36, 5512315355, 4429313566, {"topic": "com.sensor.temp"}, [21.5]])
    assert isinstance(event, Event)
    print(f"  a valid EVENT: {event!r}")


def authentication() -> None:
    print("== 3. answering challenges")
    cra = auth.AuthWampCra("peter", "secret1")
    signature, _ = cra.on_challenge({"challenge": '{"nonce": "abc"}'})
    print(f"  wampcra     signature {signature}")
    key = auth.CryptosignKey.from_hex(
        "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510"
    )
    signer = auth.AuthCryptosign("alice", key=key)
    print(f"  cryptosign  HELLO authextra {signer.authextra()}")
    signature, _ = signer.on_challenge({"challenge": "ff" * 32})
    print(f"  cryptosign  signature {signature[:64]}...")
    scram = auth.AuthScram("user", "pencil", convention="spec", nonce="rOprNGfwEbeRWgbNEkqO")
    print(f"  scram       HELLO authextra {scram.authextra()}")
    proof, _ = scram.on_challenge(
        {
            "nonce": "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
            "salt": "W22ZaJ0SNY7soEsUEjb6gQ==",
            "kdf": "pbkdf2",
            "iterations": 4096,
        }
    )
    print(
        f"  scram       client proof {proof}"
        " (RFC 7677: dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=)"
    )
    scram.on_welcome({"verifier": "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="})
    print("  scram       router's server signature verified")


if __name__ == "__main__":
    codecs()
    validation()
    authentication()
