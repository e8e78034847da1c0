"""Silences the banners the hub's libraries print when they are imported, before they are imported.

eventlet 0.41 warns that it is deprecated (nine lines on stderr, an EventletDeprecationWarning, a
Warning and not a DeprecationWarning, so PYTHONWARNINGS=ignore::DeprecationWarning misses it) the
moment anything imports it: nameko does, so every nameko service, the gateway, the adapter and every
`hubctl` command began with it. nameko's command line imports pkg_resources, which warns that it is
deprecated too. Neither says anything an operator can act on (the versions are pinned on purpose), so
the package of every hub entry point imports this module first: `services`, `gateway`, `departments`,
`hubctl`, and `services.backbone.nameko_run` for the nameko services. Other warnings still show.
"""

from __future__ import annotations

import warnings

# (message at the start of the warning's text, category); a message is a regular expression
BANNERS: tuple[tuple[str, type[Warning]], ...] = (
    (r"\s*Eventlet is deprecated", Warning),
    (r"\s*pkg_resources is deprecated as an API", UserWarning),
)


def silence_banners() -> None:
    for message, category in BANNERS:
        warnings.filterwarnings("ignore", message=message, category=category)


silence_banners()
