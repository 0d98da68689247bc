"""The history database's schema, as migrations: ``MIGRATIONS[n - 1]`` turns version n - 1 into version n.

A migration that has shipped is never edited: a database made by an older cdd-scorer is brought up to
date by running the later ones (``database.migrate``), and a test builds a version 1 database from
``MIGRATIONS[:1]``. Change the schema by appending a migration.

Numbers are TEXT holding exact decimals (``83.33``, ``4.6667``), never binary floats: a KPI's result and
the overall % as the engine computed them, scorecard scores and percentages and linear levels rounded
once as scores.csv shows them. Times are UTC ISO 8601 (``2022-10-05T02:30:00+00:00``); a file's saved
time is as the workbook records it. The comments inside each CREATE statement are kept by SQLite, so
any SQLite tool shows them with the table.
"""

from __future__ import annotations

_VERSION_1 = (
    """CREATE TABLE schema_version (
        version INTEGER PRIMARY KEY,   -- one row per migration applied; the schema is at MAX(version)
        applied_at TEXT NOT NULL,      -- UTC
        tool_version TEXT NOT NULL     -- the cdd-scorer that applied it
    )""",
    """CREATE TABLE runs (             -- one row per recorded score run
        run_id INTEGER PRIMARY KEY AUTOINCREMENT,  -- increases with every run: the latest run has the highest
        card_id TEXT NOT NULL,         -- the KPI card, i.e. the round: cdd-fy2565-r2
        card_fingerprint TEXT NOT NULL,
        fiscal_year_be INTEGER NOT NULL,
        round_start TEXT NOT NULL,     -- the card's first day of the round (ISO date): rounds sort by it
        method TEXT NOT NULL CHECK (method IN ('step', 'linear')),
        tool_version TEXT NOT NULL,    -- cdd-scorer version
        started_at TEXT NOT NULL,      -- UTC
        finished_at TEXT NOT NULL      -- UTC, when the run was recorded
    )""",
    "CREATE INDEX runs_by_card ON runs (card_id)",
    """CREATE TABLE run_provinces (    -- the provinces a run scored, with the province row of the workbook
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        province_code TEXT NOT NULL,   -- DOPA code: 40
        province_name_th TEXT NOT NULL,
        province_name_en TEXT NOT NULL,
        -- the province row: pooled ratio KPIs, mean levels of the others; the Thai rating name
        overall_percent TEXT,
        rating TEXT,
        PRIMARY KEY (run_id, province_code)
    )""",
    """CREATE TABLE input_files (      -- every file of the input folder the run could open
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        name TEXT NOT NULL,            -- path relative to the input folder, with /
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,         -- bytes
        saved_at TEXT,                 -- when the workbook says it was saved
        superseded INTEGER NOT NULL CHECK (superseded IN (0, 1)),  -- 1: another file of its district counts
        superseded_by TEXT,            -- the name of that file
        PRIMARY KEY (run_id, name)
    )""",
    """CREATE TABLE output_files (     -- what the run wrote: consolidated.xlsx, scores.csv, issues.csv
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (run_id, name)
    )""",
    """CREATE TABLE district_results ( -- one row per district of every province of the run, as scores.csv
        run_id INTEGER NOT NULL,
        province_code TEXT NOT NULL,
        district_code TEXT NOT NULL,   -- DOPA code: 4001
        district_name_th TEXT NOT NULL,
        district_name_en TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('complete', 'needs_correction', 'missing')),
        source_file TEXT,              -- the input file that counts (input_files.name); NULL when none
        overall_percent TEXT,          -- rounded as the card says (2 decimals); NULL unless complete
        rating TEXT,                   -- Thai rating name
        rating_en TEXT,
        rank INTEGER,                  -- within the province; ties share a rank
        errors INTEGER NOT NULL,       -- problems of this district by severity
        warnings INTEGER NOT NULL,
        PRIMARY KEY (run_id, district_code),
        FOREIGN KEY (run_id, province_code) REFERENCES run_provinces (run_id, province_code)
    )""",
    "CREATE INDEX district_results_by_district ON district_results (district_code)",
    """CREATE TABLE scorecard_results (  -- each scorecard of a district: team, individual
        run_id INTEGER NOT NULL,
        district_code TEXT NOT NULL,
        scorecard_id TEXT NOT NULL,
        score TEXT,                    -- 0-5, as scores.csv (4 decimals)
        percent TEXT,                  -- as scores.csv (2 decimals)
        PRIMARY KEY (run_id, district_code, scorecard_id),
        FOREIGN KEY (run_id, district_code) REFERENCES district_results (run_id, district_code)
    )""",
    """CREATE TABLE kpi_results (      -- each KPI of a district
        run_id INTEGER NOT NULL,
        district_code TEXT NOT NULL,
        kpi_id TEXT NOT NULL,          -- T1 ... I7, as the card names them
        result TEXT,                   -- the KPI's result rounded to the card's decimals; NULL for milestones
        level TEXT,                    -- 0-5 (a fraction under the linear method, 4 decimals); NULL: none
        applicable INTEGER NOT NULL CHECK (applicable IN (0, 1)),
        scorable INTEGER NOT NULL CHECK (scorable IN (0, 1)),  -- 0: its inputs have errors
        PRIMARY KEY (run_id, district_code, kpi_id),
        FOREIGN KEY (run_id, district_code) REFERENCES district_results (run_id, district_code)
    )""",
    """CREATE TABLE adjustments (      -- committee decisions applied in the run, one row per decision
        adjustment_id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL,
        district_code TEXT NOT NULL,
        kpi_id TEXT,
        field TEXT,                    -- the field corrected, or 'level' for a decided level
        value_before TEXT,
        value_after TEXT,
        reason TEXT NOT NULL,
        decided_by TEXT NOT NULL,
        decided_on TEXT,               -- ISO date
        FOREIGN KEY (run_id, district_code) REFERENCES district_results (run_id, district_code)
    )""",
)

# Closing a round (issue 13 item 2): a run of a province is marked final, a reopening is kept.
_VERSION_2 = (
    "ALTER TABLE run_provinces ADD COLUMN closed INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1))",
    "ALTER TABLE run_provinces ADD COLUMN closed_by TEXT",
    "ALTER TABLE run_provinces ADD COLUMN closed_at TEXT",  # UTC
    """CREATE TABLE reopenings (       -- a closed round opened again: the closing it undid and why
        reopening_id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL,       -- the run that had been final
        province_code TEXT NOT NULL,
        closed_by TEXT,
        closed_at TEXT,
        reason TEXT NOT NULL,
        reopened_by TEXT,
        reopened_at TEXT NOT NULL,     -- UTC
        FOREIGN KEY (run_id, province_code) REFERENCES run_provinces (run_id, province_code)
    )""",
    # The run that speaks for a round (card) of a province: its final run when the round is closed,
    # else its latest run.
    """CREATE VIEW round_runs AS
    SELECT r.card_id, p.province_code, r.run_id, p.closed AS final, r.card_fingerprint, r.fiscal_year_be,
           r.round_start, r.finished_at, p.province_name_th, p.overall_percent, p.rating
    FROM runs r JOIN run_provinces p ON p.run_id = r.run_id
    WHERE r.run_id = (SELECT p2.run_id FROM run_provinces p2 JOIN runs r2 ON r2.run_id = p2.run_id
                      WHERE r2.card_id = r.card_id AND p2.province_code = p.province_code
                      ORDER BY p2.closed DESC, p2.run_id DESC LIMIT 1)""",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_VERSION_1, _VERSION_2)
