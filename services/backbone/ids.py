"""Ids derived from an enterprise's id (its views, ledgers and indexes), made once per enterprise.

uuid5 hashes its name and builds a UUID object on every call (about 5 µs). A consumer derives the same
few ids for every event of a page (tens of thousands of times in a bulk import), so they are kept: a
bounded cache per derivation, for the enterprises of the last pages, not for a province. An entry holds
~300 B (the enterprise's id text, the UUID, the cache's links): at 65,536 entries a derivation held
~20 MB, and the notifications stream process two of them, once a province had registered.
"""

from __future__ import annotations

import functools

MAXSIZE = 8_192
per_enterprise = functools.lru_cache(maxsize=MAXSIZE)
