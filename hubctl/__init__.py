"""hubctl: the operator's command line."""

from services.backbone import quiet as _quiet  # noqa: F401 - before any library prints a banner
