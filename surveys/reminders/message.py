"""The words: an e-mail people act on, and a channel post that names nobody.

The e-mail is plain and short: the link, how long it takes, that it is anonymous and what that
means, and how to stop these messages; a text part and an accessible HTML part (language set,
real headings and paragraphs, a descriptive link, no images, high contrast). It is addressed to
one person only, and says nothing about anyone else.

The channel post may say that the pulse is open and quote a figure already released for a closed
week (the caller passes the released text in, read from the store of releases); it never names
anyone and never counts the open week.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

from models.language import N_

INVITATION, REMINDER = "invitation", "reminder"
# The pulse page's switch, named in every message as the way to stop them.
OPT_OUT_LABEL = N_("E-mail me when the pulse opens and remind me")  # e-mails: English


@dataclass(frozen=True)
class MessageContext:
    """What every message of a run shares."""

    organisation: str
    week: str
    pulse_url: str
    mail_from: str
    questions: int
    minutes: int = 1
    min_group_size: int = 5


def kind_of(slot: int) -> str:
    return INVITATION if slot == 0 else REMINDER


def subject(kind: str, context: MessageContext) -> str:
    if kind == INVITATION:
        return f"This week's wellbeing pulse is open ({context.week})"
    return f"Reminder: this week's wellbeing pulse is open until Sunday ({context.week})"


def _paragraphs(kind: str, context: MessageContext) -> list[str]:
    opening = (
        "This week's wellbeing pulse is open."
        if kind == INVITATION
        else "There is still time to answer this week's wellbeing pulse: it is open until Sunday."
    )
    minutes = "about a minute" if context.minutes <= 1 else f"about {context.minutes} minutes"
    return [
        f"{opening} It has {context.questions} short questions and takes {minutes}.",
        "It is anonymous. Your answers are stored with your team and the week only, never with "
        "your name, e-mail or the time you answered. Your manager and HR only ever see totals "
        f"and averages for groups of at least {context.min_group_size} people, and nobody is told "
        "who has or has not answered.",
        "You get this message because you have not answered this week's pulse yet. To stop these "
        f'invitations and reminders, open the pulse page and turn off "{OPT_OUT_LABEL}".',
    ]


def build_email(
    *, to: str, kind: str, context: MessageContext, message_id: str | None = None
) -> EmailMessage:
    """One person's message, with a text and an HTML part. It greets nobody by name: the same
    words go to everyone, so nothing in it is about the person beyond their address."""
    greeting = "Hello,"
    paragraphs = _paragraphs(kind, context)
    title = subject(kind, context)
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = context.mail_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id or make_msgid(domain=_domain(context.mail_from))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message["List-Unsubscribe"] = f"<{context.pulse_url}>"
    text = "\n\n".join(
        [
            greeting,
            paragraphs[0],
            f"Answer the pulse: {context.pulse_url}",
            *paragraphs[1:],
            f"{context.organisation} wellbeing pulse",
        ]
    )
    message.set_content(text + "\n")
    message.add_alternative(_html(title, greeting, paragraphs, context), subtype="html")
    return message


_TO = "recipient@placeholder.invalid"
_ID = "<message-id@placeholder.invalid>"
_PLAIN_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$")


class BatchMessage:
    """A run's message serialised once, for the SMTP wire; each recipient's copy differs only in
    its To address and Message-ID. Building an ``EmailMessage`` per person cost 8 ms of CPU each
    (160 s for 20,000 people); a copy from the template costs microseconds."""

    def __init__(self, kind: str, context: MessageContext) -> None:
        self.kind, self.context = kind, context
        self.sender = parseaddr(context.mail_from)[1]
        self.domain = _domain(context.mail_from)
        data = build_email(to=_TO, kind=kind, context=context, message_id=_ID).as_bytes(policy=SMTP)
        self._before_to, rest = data.split(_TO.encode(), 1)
        self._between, self._after_id = rest.split(_ID.encode(), 1)

    def render(self, to: str) -> bytes:
        """The copy for ``to``; an address that is not plain ASCII is built the slow, general way
        (the template must never carry a header break or an encoded word)."""
        if not _PLAIN_ADDRESS.match(to):
            return build_email(to=to, kind=self.kind, context=self.context).as_bytes(policy=SMTP)
        message_id = make_msgid(domain=self.domain).encode()
        return b"".join((self._before_to, to.encode(), self._between, message_id, self._after_id))


# Dark text on white and white on dark blue: both well above the WCAG AA contrast of 4.5:1.
_BODY_STYLE = (
    "margin:0;padding:16px;background:#ffffff;color:#1b1b1b;"
    "font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5"
)
_BUTTON_STYLE = (
    "display:inline-block;padding:12px 20px;background:#1d4f91;color:#ffffff;"
    "font-weight:bold;text-decoration:underline;border-radius:4px"
)


def _html(title: str, greeting: str, paragraphs: list[str], context: MessageContext) -> str:
    e = html.escape
    url = e(context.pulse_url, quote=True)
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs[1:])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
</head>
<body style="{_BODY_STYLE}">
<main style="max-width:36em">
<h1 style="font-size:1.25em;margin:0 0 1em">{e(title)}</h1>
<p>{e(greeting)}</p>
<p>{e(paragraphs[0])}</p>
<p><a href="{url}" style="{_BUTTON_STYLE}">Answer this week's pulse</a></p>
<p style="font-size:0.9em">Or copy this address into your browser: {url}</p>
{body}
<p style="color:#4a4a4a">{e(context.organisation)} wellbeing pulse</p>
</main>
</body>
</html>
"""


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip("> ") or "localhost"


def channel_text(kind: str, context: MessageContext, released: str | None) -> str:
    """The post, as plain text: that the pulse is open, and at most a released figure."""
    lines = [
        (
            f"This week's wellbeing pulse ({context.week}) is open: {context.questions} short "
            "questions, about a minute, anonymous."
            if kind == INVITATION
            else f"There is still time to answer this week's wellbeing pulse ({context.week}): "
            "it is open until Sunday."
        )
    ]
    if released:
        lines.append(released)
    return "\n".join(lines)


def channel_payload(
    webhook_url: str, kind: str, context: MessageContext, released: str | None
) -> dict[str, Any]:
    """JSON for a Slack incoming webhook (``hooks.slack.com``) or, for any other address, a
    Teams Workflows webhook (an Adaptive Card in a message)."""
    text = channel_text(kind, context, released)
    host = (urlsplit(webhook_url).hostname or "").lower()
    if host == "slack.com" or host.endswith(".slack.com"):
        return {"text": f"{text}\n<{context.pulse_url}|Answer this week's pulse>"}
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": line, "wrap": True} for line in text.split("\n")],
        "actions": [
            {"type": "Action.OpenUrl", "title": "Answer this week's pulse", "url": context.pulse_url}
        ],
    }
    return {
        "type": "message",
        "text": text,
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }
