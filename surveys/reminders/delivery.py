"""Getting messages out: SMTP with one reused connection, webhooks with httpx; retries with backoff.

A temporary failure (the connection drops, the server answers 4xx, a network error, HTTP 429 or
5xx) is retried after a growing wait; a permanent one (an address refused with 5xx, HTTP 4xx) is
not. Nothing here names the address or the webhook URL in an error (either would tell an operator
who had not answered, or leak a secret).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr
from typing import Any, Literal

import httpx

Security = Literal["none", "starttls", "tls"]


def security_for(port: int, chosen: str | None) -> Security:
    """The chosen security, else by port: 465 TLS, 587 STARTTLS, anything else none."""
    if chosen:
        if chosen not in ("none", "starttls", "tls"):
            raise ValueError(f"SMTP security must be none, starttls or tls, not {chosen!r}")
        return chosen  # type: ignore[return-value]
    return {465: "tls", 587: "starttls"}.get(port, "none")  # type: ignore[return-value]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: Security = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0


@dataclass(frozen=True)
class Retry:
    """Up to ``attempts`` tries, waiting ``first_wait`` seconds, then twice as long each time."""

    attempts: int = 4
    first_wait: float = 1.0
    factor: float = 2.0
    sleep: Callable[[float], None] = time.sleep

    def waits(self) -> Iterator[float]:
        wait = self.first_wait
        for _ in range(self.attempts - 1):
            yield wait
            wait *= self.factor


class Refused(Exception):
    """The server refused this message for good (e.g. an unknown address); the rest go on."""


class Unavailable(Exception):
    """The server could not be reached or kept after every retry; the run stops sending mail."""


class MailSender:
    """Sends a run's messages over one SMTP connection, reconnecting when it drops."""

    def __init__(self, config: SmtpConfig, retry: Retry | None = None) -> None:
        self.config = config
        self.retry = retry or Retry()
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> MailSender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        c = self.config
        if c.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        # Each message is four short command/reply exchanges: without this, Nagle's algorithm
        # and delayed acknowledgements hold every one of them back (13 ms a message, not 7).
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if c.user:
            try:
                smtp.login(c.user, c.password or "")
            except smtplib.SMTPAuthenticationError:
                smtp.close()
                raise Unavailable("the SMTP server refused the user name and password") from None
        self._smtp = smtp
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send an ``EmailMessage`` to its To address (see ``send_bytes``)."""
        sender = parseaddr(str(message["From"]))[1]
        self.send_bytes(sender, str(message["To"]), message.as_bytes(policy=SMTP))

    def send_bytes(self, sender: str, recipient: str, data: bytes) -> None:
        """Send one message, already serialised with CRLF line ends, to one recipient;
        ``Refused`` for a permanent refusal, ``Unavailable`` after the retries."""
        waits = self.retry.waits()
        problem = "no attempt made"
        while True:
            try:
                self._connection().sendmail(sender, [recipient], data)
                return
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                if not all(400 <= code < 500 for code in codes):
                    raise Refused(f"address refused (SMTP {codes[0] if codes else '?'})") from None
                problem = f"address deferred (SMTP {codes[0]})"
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
                if error.smtp_code >= 500:
                    raise Refused(f"message refused (SMTP {error.smtp_code})") from None
                problem = f"message deferred (SMTP {error.smtp_code})"
                self._reset()
            except Unavailable:
                raise
            except (smtplib.SMTPException, OSError) as error:
                problem = type(error).__name__
                self._drop()
            wait = next(waits, None)
            if wait is None:
                raise Unavailable(f"the SMTP server is unavailable ({problem})")
            self.retry.sleep(wait)

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


class PostFailed(Exception):
    """The channel post did not go through; says why without the URL (a secret)."""


def post_json(
    url: str, payload: dict[str, Any], *, retry: Retry | None = None, client: httpx.Client | None = None
) -> None:
    """POST ``payload`` as JSON; retries network errors, HTTP 408, 429 and 5xx with backoff."""
    retry = retry or Retry()
    waits = retry.waits()
    own = client is None
    client = client or httpx.Client(timeout=15.0, follow_redirects=False)
    try:
        while True:
            try:
                response = client.post(url, json=payload)
                if response.status_code < 300:
                    return
                problem = f"HTTP {response.status_code}"
                if not (response.status_code in (408, 429) or response.status_code >= 500):
                    raise PostFailed(f"the channel post was refused ({problem})")
            except httpx.HTTPError as error:
                problem = type(error).__name__
            wait = next(waits, None)
            if wait is None:
                raise PostFailed(f"the channel post failed after {retry.attempts} tries ({problem})")
            retry.sleep(wait)
    finally:
        if own:
            client.close()
