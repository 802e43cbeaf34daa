"""Scopegate's Python SDK: manage machine users and scoped tokens."""

import logging

__version__ = "0.1.0"

# Like requests: the library never configures logging; applications and
# notebooks decide where records of the "sdk" loggers appear (they propagate).
logging.getLogger(__name__).addHandler(logging.NullHandler())
