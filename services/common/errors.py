"""The root of every error Chorus raises on purpose.

Each package below ``services`` derives its own errors from :class:`ChorusError`, so a boundary (the gRPC
interceptor, the CLI) can tell a known failure, reported in one clear line, from a bug.
"""

from __future__ import annotations


class ChorusError(Exception):
    """A failure Chorus knows how to explain in one sentence."""


class ConfigurationError(ChorusError):
    """The environment or the infrastructure does not match what Chorus was told to expect."""
