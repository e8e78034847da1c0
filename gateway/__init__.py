"""The gRPC edges: the ERP gateway and the department adapter."""

from services.backbone import quiet as _quiet  # noqa: F401 - before any library prints a banner
