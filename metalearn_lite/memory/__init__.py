"""Memory-augmented networks (chapter 3.2): addressing of external memories."""

from . import addressing

__all__ = ["addressing"]
