"""Sending alerts: Slack incoming webhooks, generic JSON webhooks (signed), email over SMTP.

Hand-written on httpx2 and smtplib rather than apprise (see docs/explanation/scheduler.md): the
generic webhook needs an HMAC-SHA256 signature over the body, which apprise does not make, and
apprise takes its secrets inside URLs, which end up in logs and error messages.

Secrets are resolved when a message is sent, never stored; errors name the channel and what
failed, never the URL or password.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx2
from pydantic import SecretStr

from ..config.credentials import EnvRef, SecretFileRef
from ..config.schedules import AlertsConfig, EmailChannel, SlackChannel, WebhookChannel
from ._alerts import Notice

__all__ = ["AlertDeliveryError", "Channels", "SecretResolver", "sign"]

# Resolves ``{env: ...}`` / ``{secret: ...}`` written at a path of the project file.
SecretResolver = Callable[[EnvRef | SecretFileRef, tuple[str | int, ...]], SecretStr]


class AlertDeliveryError(Exception):
    """A channel could not be reached or refused the message."""

    def __init__(self, channel: str, reason: str) -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(f"alert channel {channel!r}: {reason}")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class Channels:
    """The project's alert channels, by name."""

    def __init__(
        self,
        config: AlertsConfig,
        resolve: SecretResolver,
        *,
        transport: httpx2.BaseTransport | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._resolve = resolve
        self._transport = transport
        self._clock = clock

    def names(self) -> list[str]:
        return sorted(self.config.channels)

    def send(self, name: str, notice: Notice) -> None:
        channel = self.config.channels.get(name)
        if channel is None:
            raise AlertDeliveryError(name, "no such channel under `alerts.channels`")
        path: tuple[str | int, ...] = ("alerts", "channels", name)
        try:
            if isinstance(channel, SlackChannel):
                self._slack(name, channel, notice, path)
            elif isinstance(channel, WebhookChannel):
                self._webhook(name, channel, notice, path)
            else:
                self._email(name, channel, notice, path)
        except AlertDeliveryError:
            raise
        except httpx2.HTTPError as exc:
            # The exception's text may hold the URL (a Slack webhook URL is the secret).
            raise AlertDeliveryError(name, f"HTTP request failed ({type(exc).__name__})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise AlertDeliveryError(name, f"SMTP failed: {_smtp_reason(exc)}") from None

    def _value(self, value: str | EnvRef | SecretFileRef, path: tuple[str | int, ...]) -> str:
        if isinstance(value, str):
            return value
        return self._resolve(value, path).get_secret_value()

    def _post(
        self, name: str, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> None:
        with httpx2.Client(transport=self._transport, timeout=timeout) as client:
            response = client.post(url, content=body, headers=headers)
        if response.status_code >= 300:
            raise AlertDeliveryError(name, f"the receiver answered HTTP {response.status_code}")

    def _slack(
        self, name: str, channel: SlackChannel, notice: Notice, path: tuple[str | int, ...]
    ) -> None:
        url = self._value(channel.url, (*path, "url"))
        icon = ":rotating_light:" if notice.active else ":white_check_mark:"
        body = json.dumps({"text": f"{icon} *{notice.title}*\n{notice.text}"}).encode()
        self._post(name, url, body, {"Content-Type": "application/json"}, 10.0)

    def _webhook(
        self, name: str, channel: WebhookChannel, notice: Notice, path: tuple[str | int, ...]
    ) -> None:
        url = self._value(channel.url, (*path, "url"))
        document: dict[str, Any] = {
            "event": "alert" if notice.active else "recovered",
            "key": notice.key,
            "schedule": notice.schedule,
            "condition": notice.condition,
            "title": notice.title,
            "text": notice.text,
            **notice.fields,
            "sent_at": self._clock().isoformat(),
        }
        body = json.dumps(document, sort_keys=True, default=str).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "listrak-sync"}
        for header, value in channel.headers.items():
            headers[header] = self._value(value, (*path, "headers", header))
        if channel.signing_secret is not None:
            secret = self._value(channel.signing_secret, (*path, "signing_secret"))
            stamp = str(int(self._clock().timestamp()))
            headers[channel.signature_header] = sign(secret, stamp, body)
        self._post(name, url, body, headers, channel.timeout)

    def _email(
        self, name: str, channel: EmailChannel, notice: Notice, path: tuple[str | int, ...]
    ) -> None:
        message = EmailMessage()
        message["Subject"] = f"[listrak-sync] {notice.title}"
        message["From"] = channel.sender
        message["To"] = ", ".join(channel.to)
        message.set_content(notice.text + "\n")
        context = ssl.create_default_context(cafile=channel.ca_file)
        smtp: smtplib.SMTP
        if channel.security == "tls":
            smtp = smtplib.SMTP_SSL(
                channel.host, channel.port, timeout=channel.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout)
        with smtp:
            smtp.ehlo()
            if channel.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if channel.username is not None and channel.password is not None:
                smtp.login(
                    self._value(channel.username, (*path, "username")),
                    self._value(channel.password, (*path, "password")),
                )
            smtp.send_message(message)


def _smtp_reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"server answered {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "the server does not offer STARTTLS or AUTH"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason})"
    return type(exc).__name__
