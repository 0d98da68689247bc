"""The history of rounds: an embedded SQLite database (``history.sqlite`` by default) that remembers
every score run, closes a round, and gives managers the trend across rounds.

- ``record_run(db_path, result, outputs, adjustments=(), started_at=None) -> run_id`` records a run in one
  transaction (``record``); ``Adjustment`` is one committee decision applied in it; ``latest_adjustments``
  counts those of a round's latest run.
- ``close_round``, ``closed_run``, ``reopen`` and ``verify`` close a round of a province with a manifest
  of every file's SHA-256, tell whether it is closed, open it again with a reason, and check the files
  against the manifest (``read_manifest``); ``latest_provinces`` are those a round's latest run scored
  (``closing``).
- ``province_trend`` and ``district_history`` read the rounds back with the change since the previous
  round; ``earlier_rounds`` are the rounds before a card's, for its trend sheet; ``provinces_in`` the
  provinces with rounds (``trend``).

``database`` opens the file (busy timeout, rollback journal, migrations, transactions); ``schema`` holds
the tables as migrations. Every function takes the database's path and opens and closes it itself, so
two processes on a shared folder can use it at once. Errors are ``HistoryError`` with a Thai/English
message.
"""

from cdd_scorer.history.closing import (
    ClosedRun,
    FileChange,
    close_round,
    closed_run,
    latest_provinces,
    manifest_name,
    read_manifest,
    reopen,
    verify,
)
from cdd_scorer.history.database import BUSY_TIMEOUT_S, DEFAULT_HISTORY, HistoryError
from cdd_scorer.history.record import LEVEL, Adjustment, latest_adjustments, record_run
from cdd_scorer.history.trend import (
    DistrictRound,
    ProvinceTrend,
    RoundRun,
    district_history,
    earlier_rounds,
    province_trend,
    provinces_in,
)

__all__ = [
    "BUSY_TIMEOUT_S",
    "DEFAULT_HISTORY",
    "LEVEL",
    "Adjustment",
    "ClosedRun",
    "DistrictRound",
    "FileChange",
    "HistoryError",
    "ProvinceTrend",
    "RoundRun",
    "close_round",
    "closed_run",
    "district_history",
    "earlier_rounds",
    "latest_adjustments",
    "latest_provinces",
    "manifest_name",
    "province_trend",
    "provinces_in",
    "read_manifest",
    "record_run",
    "reopen",
    "verify",
]
