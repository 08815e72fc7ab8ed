"""The real parts the reminder tests talk to: an aiosmtpd SMTP server in this process and a local
HTTP server standing in for a Teams/Slack webhook. Nothing here reaches the internet."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.local_server import free_port


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives; can refuse addresses or go down."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    down_after: int | None = None  # answer 421 to every message after this many

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: ARG002
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: ARG002
        if self.down_after is not None and len(self.received) >= self.down_after:
            return "421 4.3.2 Service not available"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return [address for rcpts, _ in self.received for address in rcpts]


@pytest.fixture(name="smtp")
def smtp_fixture() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Hook:
    posts: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # answer 503 to this many posts first


@pytest.fixture(name="webhook")
def webhook_fixture() -> Iterator[tuple[Hook, str]]:
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hook.fail_next:
                hook.fail_next -= 1
                self.send_response(503)
            else:
                hook.posts.append(json.loads(body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook, f"http://127.0.0.1:{server.server_address[1]}/hook/secret-token"
    finally:
        server.shutdown()
        server.server_close()
