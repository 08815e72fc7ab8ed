"""Pulse invitations and reminders to people who have not answered (DESIGN.md capability 11).

- ``schedule``: when each message of a week is due (time zone, quiet hours, bank holidays).
- ``preferences``: personal opt-out, the organisation's switch, the stored schedule.
- ``recipients``: non-submitters from the participation receipts; the keyed sent log.
- ``message``: the e-mail (text and HTML) and the channel post.
- ``delivery``: SMTP with a reused connection, webhooks with httpx, retries with backoff.
- ``run``: one run for one organisation, counts only in its report.
"""
