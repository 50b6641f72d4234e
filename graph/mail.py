"""Sending e-mail: alert digests, confirmations and answers to guidance requests, through the SMTP
server in Settings (AMV_SMTP_HOST, AMV_SMTP_PORT, AMV_SMTP_USER, AMV_SMTP_PASSWORD, AMV_SMTP_STARTTLS,
AMV_MAIL_FROM).

Messages are built with `email.message.EmailMessage`: a text part and an HTML alternative, UTF-8,
with a Message-ID and Date, so that mail clients show Danish letters and threads correctly. The HTML
is rendered from Jinja2 templates in graph/mail_templates with autoescaping on (the text parts are
rendered without it: they are plain text, never HTML).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Any

import jinja2

from graph.config import Settings

TEMPLATES = Path(__file__).parent / "mail_templates"
SMTP_TIMEOUT = 30.0

_html = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True
)
_text = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=False,  # plain-text parts: nothing is interpreted as markup
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class MailError(RuntimeError):
    """The mail could not be handed to the SMTP server (not configured, refused or unreachable)."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    lang: str = "da"
    headers: Mapping[str, str] | None = None


def render(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """The text and HTML bodies of `template` (`<template>.txt` and `<template>.html`)."""
    return (
        _text.get_template(template + ".txt").render(**context),
        _html.get_template(template + ".html").render(**context),
    )


def translator(table: Mapping[str, Mapping[str, str]], lang: str):  # noqa: ANN201 - a plain callable for templates
    """`t(key, **values)`: the text of `key` in `lang` (Danish when it has none), with `values` formatted in."""

    def t(key: str, **values: object) -> str:
        text = table[key].get(lang) or table[key]["da"]
        return text.format(**values) if values else text

    return t


def domain_of(sender: str) -> str:
    """The domain of an address like `Name <user@example.org>` (for Message-IDs)."""
    address = getaddresses([sender])[0][1]
    return address.rpartition("@")[2] or "localhost"


class Mailer:
    """Hands messages to the configured SMTP server; one connection per `send_all` batch."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = Address(addr_spec=mail.to)
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=domain_of(self.settings.mail_from))
        message["Content-Language"] = mail.lang
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to these, please
        for name, value in (mail.headers or {}).items():
            message[name] = value
        message.set_content(mail.text, charset="utf-8")
        message.add_alternative(mail.html, subtype="html", charset="utf-8")
        return message

    def send(self, mail: Mail) -> str:
        """Send one mail; returns its Message-ID. Raises MailError when it was not accepted."""
        with self.connect() as connection:
            return connection.send(mail)

    def connect(self) -> MailConnection:
        """A connection for a batch of mails (`with mailer.connect() as c: c.send(…)`)."""
        return MailConnection(self)


class MailConnection:
    """One SMTP session, opened on the first mail and opened again after a failure, so that one
    refused or broken send does not stop the rest of a batch."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> MailConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> smtplib.SMTP:
        settings = self.mailer.settings
        if not settings.smtp_host:
            raise MailError("no SMTP server is configured (AMV_SMTP_HOST)")
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
        try:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, mail: Mail) -> str:
        message = self.mailer.message(mail)
        try:
            if self._smtp is None:
                self._smtp = self._open()
            self._smtp.send_message(message)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            self.close()
            raise MailError(f"the mail to {mail.to} could not be sent: {exc}") from exc
        return str(message["Message-ID"])

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None
