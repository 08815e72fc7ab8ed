"""``python -m app.serve run app/main.py [streamlit options]``: Streamlit's own command line, with
the app's modules imported first.

Streamlit imports a script's modules on its first run, that is while the first visitor waits:
for this app about 0.7 s (SQLAlchemy, SQLModel, the models, settings, Babel). Imported here, before
the server starts listening, they are paid during the start instead, and the script's imports on
the first visit find them loaded. ``wellbeing demo`` and the sign-in benchmark start the app so."""

from __future__ import annotations

import logging
import sys

# Streamlit checks each ``st.cache_data`` function's settings when it is defined and, with no
# server running yet, logs that it falls back to memory storage. The caches themselves are made on
# first call, under the running server, so that warning says nothing here.
_DEFINED_BEFORE_THE_SERVER = "streamlit.runtime.caching.cache_data_api"


def main() -> None:
    from streamlit.runtime.caching import cache_data_api  # noqa: F401  (creates its logger)
    from streamlit.web import cli

    caching_log = logging.getLogger(_DEFINED_BEFORE_THE_SERVER)
    level = caching_log.level
    caching_log.setLevel(logging.ERROR)
    try:
        import app.main  # noqa: F401  (its imports only: the page code runs under ``__main__``)
    finally:
        caching_log.setLevel(level)
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
