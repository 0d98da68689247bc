"""The ``cdd-scorer`` command line: a thin click layer over the library (``cdd_scorer.round`` and the
writers). ``app`` holds the group and what commands share; each command module registers its commands.
"""

from cdd_scorer.cli import (  # noqa: F401 — importing registers the commands
    history_commands,
    round_commands,
    setup_commands,
)
from cdd_scorer.cli.app import main

__all__ = ["main"]
