"""Alert delivery (issue 11, item 5): e-mail to a local SMTP server (aiosmtpd) over STARTTLS
with a certificate made for the test, webhooks to a local HTTP receiver (pytest-httpserver):
riskapp's JSON signed with HMAC-SHA256, Slack- and Teams-shaped messages; none sent twice, a
storm summarised, a failure left to the next run. Nothing leaves this machine."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

from riskapp.assessment.alerts import deliver
from riskapp.domain.alerts import AlertEvent, AlertKind, Severity
from riskapp.io.errors import InputError
from riskapp.io.notify import SIGNATURE_HEADER, signature
from riskapp.settings import Settings, Subscription
from riskapp.store import Store
from tests.store.conftest import SYSTEM

SECRET = "test-webhook-secret"


def _events(n: int, severity: Severity = Severity.WARNING) -> list[AlertEvent]:
    return [
        AlertEvent(f"k{i}", AlertKind.SIGNPOST, severity, f"Signpost amber: s{i}", f"<b>{i}</b>")
        for i in range(n)
    ]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[_Inbox, int, Path]]:
    """A local SMTP server offering STARTTLS with a self-signed certificate for localhost."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (the controller checks it can connect)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        inbox, hostname="localhost", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path, webhook_secret=SECRET, fetch_timeout=5, **extra)


def test_email_over_starttls_once(
    store: Store, smtp: tuple[_Inbox, int, Path], tmp_path: Path
) -> None:
    inbox, port, cert = smtp
    settings = _settings(
        tmp_path,
        smtp_host="localhost",
        smtp_port=port,
        smtp_cafile=str(cert),
        alert_subscriptions=[Subscription(name="risk team", email=["risk@client.test"])],
    )
    store.raise_alerts(_events(3), SYSTEM)
    done = deliver(store, settings)
    assert done.sent == (("risk team", 3, False),) and not done.failed
    (mail,) = inbox.messages
    assert mail.rcpt_tos == ["risk@client.test"]
    text = mail.content.decode()
    assert "Subject: [riskapp warning] 3 alerts" in text and "Signpost amber: s2" in text
    assert deliver(store, settings).sent == ()  # never twice
    assert len(inbox.messages) == 1


def test_email_refused_without_a_trusted_certificate(
    store: Store, smtp: tuple[_Inbox, int, Path], tmp_path: Path
) -> None:
    _, port, _ = smtp
    settings = _settings(
        tmp_path,
        smtp_host="localhost",
        smtp_port=port,  # the system's CAs do not know the test's certificate
        alert_subscriptions=[Subscription(name="risk team", email=["risk@client.test"])],
    )
    store.raise_alerts(_events(1), SYSTEM)
    done = deliver(store, settings)
    assert done.sent == () and "risk team: e-mail not sent" in done.failed[0]


def test_webhooks_signed_and_shaped(store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    for path in ("/json", "/slack", "/teams"):
        httpserver.expect_request(path, method="POST").respond_with_data("ok")
    subs = [
        Subscription(name="json", webhook=httpserver.url_for("/json")),
        Subscription(
            name="slack",
            webhook=httpserver.url_for("/slack"),
            format="slack",
            min_severity="critical",
        ),
        Subscription(
            name="teams",
            webhook=httpserver.url_for("/teams"),
            format="teams",
            kinds=["plan_triggered"],
        ),
    ]
    store.raise_alerts(_events(2), SYSTEM)
    store.raise_alerts(
        [
            AlertEvent(
                "crit", AlertKind.PLAN_TRIGGERED, Severity.CRITICAL, "Plan triggered: p", "why"
            )
        ],
        SYSTEM,
    )
    done = deliver(store, _settings(tmp_path, alert_subscriptions=subs))
    assert not done.failed
    assert sorted(done.sent) == [("json", 1, False)] * 3 + [
        ("slack", 1, False),
        ("teams", 1, False),
    ]
    by_path: dict[str, list[Any]] = {}
    for request, _ in httpserver.log:
        by_path.setdefault(request.path, []).append(request)
    bodies = [r.get_data() for r in by_path["/json"]]
    for r, body in zip(by_path["/json"], bodies, strict=True):
        assert r.headers[SIGNATURE_HEADER] == signature(SECRET, body)  # verifiable by the receiver
    first = json.loads(bodies[0])
    assert first["alerts"][0]["detail"] == "<b>0</b>"  # text, not markup
    assert json.loads(by_path["/slack"][0].get_data())["text"].startswith("*[riskapp critical]")
    teams = json.loads(by_path["/teams"][0].get_data())
    assert (
        teams["@type"] == "MessageCard" and teams["title"] == "[riskapp critical] Plan triggered: p"
    )
    assert SIGNATURE_HEADER not in by_path["/slack"][0].headers
    assert deliver(store, _settings(tmp_path, alert_subscriptions=subs)).sent == ()


def test_a_storm_is_one_summary(store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    store.raise_alerts(_events(15), SYSTEM)
    subs = [Subscription(name="ops", webhook=httpserver.url_for("/hook"))]
    done = deliver(store, _settings(tmp_path, alert_subscriptions=subs, alert_storm_limit=10))
    assert done.sent == (("ops", 15, True),)
    (request,) = [r for r, _ in httpserver.log]
    body = json.loads(request.get_data())
    assert body["subject"] == "[riskapp warning] 15 alerts"
    assert "... and 5 more" in body["text"] and len(body["alerts"]) == 15


def test_a_failed_send_is_tried_again(store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_oneshot_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_request("/hook").respond_with_data("ok")
    store.raise_alerts(_events(1), SYSTEM)
    settings = _settings(
        tmp_path,
        alert_subscriptions=[Subscription(name="ops", webhook=httpserver.url_for("/hook"))],
    )
    first = deliver(store, settings)
    assert first.sent == () and first.failed == ("ops: webhook answered HTTP 500",)
    assert deliver(store, settings).sent == (("ops", 1, False),)


def test_people_choose_what_reaches_them(
    team: Store, smtp: tuple[_Inbox, int, Path], tmp_path: Path
) -> None:
    """Each person's own subscription (kinds, lowest severity) is delivered with the team's,
    audited, and can be dropped; a bad address or kind is refused."""
    from riskapp.store.auth import Actor, Role

    inbox, port, cert = smtp
    bob = Actor("bob", Role.ANALYST)
    carol = Actor("carol", Role.VIEWER)  # a viewer may choose her own alerts
    team.subscribe(bob, "bob@client.test", ["plan_triggered"])
    team.subscribe(carol, "carol@client.test", [], "critical")
    team.raise_alerts(_events(2), SYSTEM)  # warnings about signposts
    team.raise_alerts(
        [AlertEvent("p", AlertKind.PLAN_TRIGGERED, Severity.CRITICAL, "Plan triggered: p", "d")],
        SYSTEM,
    )
    settings = _settings(tmp_path, smtp_host="localhost", smtp_port=port, smtp_cafile=str(cert))
    done = deliver(team, settings)
    assert sorted(done.sent) == [("user:bob", 1, False), ("user:carol", 1, False)]
    assert {tuple(m.rcpt_tos) for m in inbox.messages} == {
        ("bob@client.test",),
        ("carol@client.test",),
    }
    assert all("Plan triggered: p" in m.content.decode() for m in inbox.messages)
    steps = [e.action for e in team.audit() if e.entity == "alert_subscription"]
    assert steps.count("subscribe") == 2
    team.unsubscribe(carol)
    assert [s.name for s in team.personal_subscriptions()] == ["user:bob"]
    with pytest.raises(InputError):
        team.subscribe(bob, "not an address", [])
    with pytest.raises(InputError):
        team.subscribe(bob, "bob@client.test", ["weather"])
