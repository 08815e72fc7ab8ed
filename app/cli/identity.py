"""``wellbeing unlink-sign-in``: let a person's next verified sign-in link a new provider account.

A person is matched on the provider account linked at their first sign-in (``models.identity``).
When they really have a new account (re-created, or a new tenant), the new one is refused as a
conflict until the old link is removed here. Run by an operator on the server, audited as "cli".
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import select

from app.cli.common import DatabaseUrlOption, cli, fail, load_settings, open_engine
from models.access import Viewer
from models.db import write_session
from models.identity import unlink_person
from models.org import Person

OPERATOR = Viewer(
    email="cli", display_name="Command line", person_id=None, team_id=None, roles=frozenset({"admin"})
)


@cli.command("unlink-sign-in")
def unlink_sign_in(
    email: Annotated[str, typer.Argument(help="The person's e-mail as in the organisation file")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Remove a person's sign-in link so their next verified sign-in links the account they use."""
    engine = open_engine(load_settings(database_url))
    try:
        with write_session(engine) as session:
            person_id = session.exec(
                select(Person.id).where(Person.email == email.strip().lower())
            ).first()
            if person_id is None:
                fail(f"nobody in the organisation has the e-mail {email!r}")
            removed = unlink_person(session, OPERATOR, person_id=person_id)
    except typer.Exit:
        raise
    except Exception as error:  # noqa: BLE001  (e.g. the database is not migrated)
        fail(f"nothing was changed: {error}")
    typer.echo(f"{email}: {removed} sign-in link(s) removed; their next verified sign-in links afresh.")
