"""Ids derived from an enterprise's id (its views, ledgers and indexes), made once per enterprise.

uuid5 hashes its name and builds a UUID object on every call (about 5 µs). A consumer derives the same
few ids for every event of a page (tens of thousands of times in a bulk import), so they are kept: a
bounded cache, as many entries as a county's enterprises times the ids each has.
"""

from __future__ import annotations

import functools

per_enterprise = functools.lru_cache(maxsize=65_536)
