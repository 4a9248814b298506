"""The HTTP CONNECT exchange both adapters use (wamp_core.application.proxy)."""

from __future__ import annotations

import pytest

from wamp_core.application.proxy import (
    CONNECT_TIMEOUT,
    MAX_PROXY_RESPONSE,
    ProxyError,
    ProxyHandshake,
    authority,
    proxy_address,
    proxy_timeout,
)


def handshake() -> ProxyHandshake:
    return ProxyHandshake("router.example", 8080, now=100.0, timeout=5, proxy_name="p:3128")


def test_the_request_and_the_deadline() -> None:
    shake = handshake()
    assert shake.request() == (
        b"CONNECT router.example:8080 HTTP/1.1\r\nHost: router.example:8080\r\n\r\n"
    )
    assert shake.deadline == 105.0
    assert ProxyHandshake("::1", 80, now=0).request().startswith(b"CONNECT [::1]:80 ")


def test_an_answer_opens_the_tunnel_and_what_follows_belongs_to_it() -> None:
    shake = handshake()
    answer = b"HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n"
    assert shake.receive_data(answer + b"\x7f\xf1\x00\x00") is True
    assert shake.open and shake.leftover == b"\x7f\xf1\x00\x00"
    with pytest.raises(RuntimeError):
        shake.receive_data(b"more")
    bytewise = handshake()
    opened = [bytewise.receive_data(answer[i : i + 1]) for i in range(len(answer))]
    assert opened == [False] * (len(answer) - 1) + [True]
    assert bytewise.leftover == b""


@pytest.mark.parametrize("status", [b"HTTP/1.1 200 OK", b"HTTP/1.0 204 No Content"])
def test_any_2xx_opens(status: bytes) -> None:
    assert handshake().receive_data(status + b"\r\n\r\n")


@pytest.mark.parametrize(
    "status",
    [b"HTTP/1.1 407 Proxy Authentication Required", b"SPAM", b"HTTP/1.1 20x", b"FTP 200 x"],
)
def test_a_refusal_names_the_status_line(status: bytes) -> None:
    with pytest.raises(
        ProxyError, match=r"HTTP proxy p:3128 \(CONNECT router.example:8080\) refused"
    ):
        handshake().receive_data(status + b"\r\n\r\n")


def test_answers_too_long_and_early_ends_fail() -> None:
    shake = handshake()
    assert shake.receive_data(b"HTTP/1.1 200 OK\r\n" + b"x" * 100) is False
    with pytest.raises(ProxyError, match="more than"):
        shake.receive_data(b"x" * MAX_PROXY_RESPONSE)
    complete = b"HTTP/1.1 200 OK\r\n" + b"X: " + b"y" * MAX_PROXY_RESPONSE + b"\r\n\r\n"
    with pytest.raises(ProxyError, match="more than"):
        handshake().receive_data(complete)
    with pytest.raises(ProxyError, match="closed the connection"):
        handshake().receive_data(b"")
    assert "did not answer within 5 s" in str(handshake().timed_out())
    assert str(ProxyHandshake("h", 1, now=0).error("x")) == "HTTP proxy (CONNECT h:1) x"


def test_proxy_settings() -> None:
    assert proxy_address({"host": "p", "port": "3128"}) == ("p", 3128)
    assert proxy_timeout({"host": "p", "port": 1}) == CONNECT_TIMEOUT
    assert proxy_timeout({"timeout": 2}) == 2.0
    for bad in ({"timeout": 0}, {"timeout": True}, {"timeout": "3"}, {"timeout": float("inf")}):
        with pytest.raises(ValueError):
            proxy_timeout(bad)
    with pytest.raises(TypeError):
        proxy_address("p:3128")
    for bad_address in ({"port": 1}, {"host": "p", "port": "x"}, {"host": "p", "port": 70000}):
        with pytest.raises(ValueError):
            proxy_address(bad_address)
    assert authority("::1", 443) == "[::1]:443"
