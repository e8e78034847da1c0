"""The departments' side: the reference platform and the AMQP subscriptions."""

from services.backbone import quiet as _quiet  # noqa: F401 - before any library prints a banner
