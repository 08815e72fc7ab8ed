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


def _error_or_worse(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


@contextmanager
def cache_definitions_quiet() -> Iterator[None]:
    """Within the block, cache definitions log nothing below an error. A filter, not a level:
    Streamlit sets its loggers' levels when it creates them, but keeps a filter put on the same
    logger beforehand, so Streamlit need not be imported here (a command that never touches it
    does not pay for it)."""
    log = logging.getLogger(CACHE_DEFINITION_LOGGER)
    log.addFilter(_error_or_worse)
    try:
        yield
    finally:
        log.removeFilter(_error_or_worse)
