"""cdd-scorer: runs a performance-evaluation round of the Community Development Department."""

__version__ = "0.1.0"
