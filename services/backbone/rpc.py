"""RPC plumbing shared by services and their callers: domain errors cross nameko intact."""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance

from services.backbone import errors


def _register(cls: type[BaseException]) -> None:
    deserialize_to_instance(cls)
    for sub in cls.__subclasses__():
        _register(sub)


# A DomainError raised in a service arrives at the caller as the same class with its args
# (field, rule, ...), not as an opaque RemoteError.
_register(errors.DomainError)
