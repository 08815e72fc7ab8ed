"""``python -m app.serve run app/main.py [streamlit options]``: Streamlit's own command line, with
the app's modules imported first.

Streamlit imports a script's modules on its first run, that is while the first visitor waits:
for this app about 0.7 s (SQLAlchemy, SQLModel, the models, settings, Babel). Imported here, before
the server starts listening, they are paid during the start instead, and the script's imports on
the first visit find them loaded. ``wellbeing demo`` and the sign-in benchmark start the app so."""

from __future__ import annotations

import sys

from app.quiet_caches import cache_definitions_quiet


def main() -> None:
    from streamlit.web import cli

    with cache_definitions_quiet():
        import app.main  # noqa: F401  (its imports only: the page code runs under ``__main__``)
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
