"""How a message leaves the server: email over SMTP (the standard library's ``smtplib``), SMS and WhatsApp through
pluggable HTTP providers (``Provider``; the project ships ``JsonHttpProvider``, a generic JSON-over-HTTP adapter).

A failure is a ``SendError``: ``permanent`` when trying again cannot help (an address the server refuses, a
request the provider rejects), else temporary (down, busy, a 5xx), which the outbox retries with backoff. Its
reason is what the delivery log shows: never a secret (the token and password are not in any message).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import httpx
from pydantic import SecretStr

from shared_billing.protocol import NotificationChannel
from sync_server.config import Settings

__all__ = ["Attachment", "JsonHttpProvider", "Mailer", "Provider", "SendError", "Senders", "SmtpMailer", "senders_for"]


class SendError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    media_type: str = "application/pdf"


class Provider(Protocol):
    """A text-message provider: sends ``text`` to the phone number ``to`` on ``channel`` or raises ``SendError``."""

    def send(self, *, to: str, text: str, channel: NotificationChannel) -> None: ...


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, text: str, attachment: Attachment | None) -> None: ...


class JsonHttpProvider:
    """POSTs ``{"to", "text", "channel"}`` as JSON to the provider's URL with ``Authorization: Bearer <token>``; a
    2xx answer is sent. 429 and 5xx are temporary, any other answer permanent (the provider refused the message)."""

    def __init__(
        self, url: str, token: SecretStr | None, *, timeout_s: float, transport: httpx.BaseTransport | None = None
    ):
        self._url = url
        self._token = token
        self._timeout = httpx.Timeout(timeout_s)
        self._transport = transport

    def send(self, *, to: str, text: str, channel: NotificationChannel) -> None:
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"} if self._token else {}
        try:
            with httpx.Client(timeout=self._timeout, transport=self._transport) as client:
                answer = client.post(
                    self._url, json={"to": to, "text": text, "channel": channel.value}, headers=headers
                )
        except httpx.HTTPError as error:
            raise SendError(f"provider unreachable: {type(error).__name__}") from error
        if answer.is_success:
            return
        temporary = answer.status_code == 429 or answer.status_code >= 500
        raise SendError(f"provider answered {answer.status_code}: {answer.text[:200]}", permanent=not temporary)


class SmtpMailer:
    """One SMTP conversation per message: STARTTLS when configured (before signing in), the bill's PDF attached."""

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host is not None
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._starttls = settings.smtp_starttls
        self._username = settings.smtp_username
        self._password = settings.smtp_password
        self._sender = settings.smtp_sender
        self._timeout = settings.notify_timeout_s

    def send(self, *, to: str, subject: str, text: str, attachment: Attachment | None) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._sender, to, subject
        message.set_content(text)
        if attachment is not None:
            maintype, subtype = attachment.media_type.split("/", 1)
            message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    password = self._password.get_secret_value() if self._password else ""
                    smtp.login(self._username, password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise SendError(f"SMTP refused the recipient ({codes})", permanent=all(c >= 500 for c in codes)) from error
        except smtplib.SMTPAuthenticationError as error:
            raise SendError(f"SMTP sign-in refused ({error.smtp_code})") from error
        except smtplib.SMTPResponseException as error:
            said = error.smtp_error
            said = said.decode(errors="replace") if isinstance(said, bytes) else said
            reason = f"SMTP answered {error.smtp_code}: {said[:200]}"
            raise SendError(reason, permanent=500 <= error.smtp_code < 600) from error
        except (smtplib.SMTPException, OSError) as error:
            raise SendError(f"SMTP server unreachable: {type(error).__name__}") from error


@dataclass(frozen=True, slots=True)
class Senders:
    """What each configured channel sends with (None: not configured)."""

    email: Mailer | None
    sms: Provider | None
    whatsapp: Provider | None

    def provider(self, channel: NotificationChannel) -> Provider | None:
        return self.sms if channel == NotificationChannel.SMS else self.whatsapp


def senders_for(settings: Settings) -> Senders:
    timeout = settings.notify_timeout_s
    sms, whatsapp = settings.sms_provider_url, settings.whatsapp_provider_url
    return Senders(
        email=SmtpMailer(settings) if settings.smtp_host else None,
        sms=JsonHttpProvider(sms, settings.sms_provider_token, timeout_s=timeout) if sms else None,
        whatsapp=(
            JsonHttpProvider(whatsapp, settings.whatsapp_provider_token, timeout_s=timeout) if whatsapp else None
        ),
    )
