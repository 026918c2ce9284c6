"""Sending alerts: e-mail over SMTP (STARTTLS or TLS from the start, the server's certificate
checked) and webhooks (JSON signed with HMAC-SHA256, or Slack- and Teams-shaped messages).
Where a message goes and how is the Settings object's (`smtp_*`, `alert_subscriptions`,
`webhook_secret`); what it says is the caller's. A failed send raises `SendError` naming the
subscriber and what went wrong."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from riskapp.settings import Settings, Subscription

SIGNATURE_HEADER = "X-Riskapp-Signature"


class SendError(Exception):
    """A message that could not be sent: the subscriber and the reason."""


@dataclass(frozen=True)
class Message:
    """One message to a subscriber: a subject line, the text, and the alerts it carries (as
    JSON-ready dicts: id, kind, severity, title, detail, raised_at)."""

    subject: str
    text: str
    alerts: tuple[dict[str, Any], ...]


def send_email(settings: Settings, to: Sequence[str], message: Message, name: str) -> None:
    """One e-mail (plain text; user text is never HTML here)."""
    if not settings.smtp_host:
        raise SendError(f"{name}: no SMTP server (RISKAPP_SMTP_HOST)")
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = ", ".join(to)
    mail["Subject"] = message.subject.replace("\n", " ")[:200]
    mail.set_content(message.text)
    context = ssl.create_default_context(cafile=settings.smtp_cafile)
    timeout = settings.fetch_timeout
    try:
        server: smtplib.SMTP
        if settings.smtp_ssl:
            server = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
            )
        else:
            server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with server:
            if settings.smtp_starttls and not settings.smtp_ssl:
                server.starttls(context=context)
            if settings.smtp_user:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                server.login(settings.smtp_user, password)
            server.send_message(mail)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise SendError(f"{name}: e-mail not sent via {settings.smtp_host}: {exc}") from None


def webhook_body(subscription: Subscription, message: Message) -> dict[str, Any]:
    """The JSON a webhook receives: riskapp's own (json), or what Slack or Teams expect."""
    if subscription.format == "slack":
        return {"text": f"*{message.subject}*\n{message.text}"}
    if subscription.format == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": message.subject,
            "title": message.subject,
            "text": message.text.replace("\n", "\n\n"),
        }
    return {"subject": message.subject, "text": message.text, "alerts": list(message.alerts)}


def signature(secret: str, body: bytes) -> str:
    """The signature header's value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(settings: Settings, subscription: Subscription, message: Message) -> None:
    """One POST of the message to the subscriber's webhook."""
    assert subscription.webhook is not None
    body = json.dumps(webhook_body(subscription, message), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": settings.fetch_user_agent}
    if subscription.format == "json" and settings.webhook_secret is not None:
        headers[SIGNATURE_HEADER] = signature(settings.webhook_secret.get_secret_value(), body)
    request = urllib.request.Request(subscription.webhook, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=settings.fetch_timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise SendError(f"{subscription.name}: webhook answered HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise SendError(f"{subscription.name}: webhook not reached: {exc}") from None
    if not 200 <= status < 300:
        raise SendError(f"{subscription.name}: webhook answered HTTP {status}")
