"""Import app modules outside a running Streamlit server without its cache warning.

Streamlit checks each ``st.cache_data`` function's settings when it is defined and, with no server
running, logs "No runtime found, using MemoryCacheStorageManager" once per function. The caches
themselves are made on first call, under the server, so outside one (the command line, and
``app.serve`` before the server starts) the warning says nothing a reader can act on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

CACHE_DEFINITION_LOGGER = "streamlit.runtime.caching.cache_data_api"


@contextmanager
def cache_definitions_quiet() -> Iterator[None]:
    """Within the block, cache definitions log nothing below an error."""
    from streamlit.runtime.caching import cache_data_api  # noqa: F401  (creates its logger)

    log = logging.getLogger(CACHE_DEFINITION_LOGGER)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)
