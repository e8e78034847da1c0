"""The filing service's periodic work, run by its stream process."""

from services.filing.refiling import workers

__all__ = ["workers"]
