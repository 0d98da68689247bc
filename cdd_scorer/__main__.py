"""``python -m cdd_scorer`` (``py -m cdd_scorer`` on Windows): the same as the ``cdd-scorer`` command, for
when its script folder is not on PATH."""

from cdd_scorer.cli import main

if __name__ == "__main__":
    main(prog_name="cdd-scorer")
