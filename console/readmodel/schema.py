"""The read model's tables and the indexes the console's pages read them by.

Rows copy the columns a page filters and sorts by from the rows they belong to (a risk point keeps
its enterprise's town and name), so that a page is one index range, not a join and a sort of a town;
an enterprise keeps the count of its active risk points per level (the dashboards and the book's
totals add up a few thousand enterprises, not a hundred thousand points).
Every consumer writes only its own columns with upserts: the upstreams' streams are each in order,
but not in order with one another (a risk point may arrive before its enterprise's registration).
"""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS @enterprises (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        uscc TEXT NOT NULL DEFAULT '',
        town TEXT NOT NULL DEFAULT '',
        industry TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '',
        legal_representative TEXT NOT NULL DEFAULT '',
        legal_mobile TEXT NOT NULL DEFAULT '',
        contacts TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'operating',
        supervisors TEXT NOT NULL DEFAULT '',
        registered_at TEXT NOT NULL DEFAULT '',
        last_version INTEGER NOT NULL DEFAULT 0,
        filed_version INTEGER NOT NULL DEFAULT 0,
        first_submitted_at TEXT,
        last_submitted_at TEXT,
        level1 INTEGER NOT NULL DEFAULT 0,
        level2 INTEGER NOT NULL DEFAULT 0,
        level3 INTEGER NOT NULL DEFAULT 0,
        level4 INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS enterprises_town ON @enterprises (town, name)",
    "CREATE INDEX IF NOT EXISTS enterprises_town_filed ON @enterprises (town, first_submitted_at)",
    """CREATE TABLE IF NOT EXISTS @supervision (
        department TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        PRIMARY KEY (department, enterprise_id)
    )""",
    "CREATE INDEX IF NOT EXISTS supervision_enterprise ON @supervision (enterprise_id)",
    """CREATE TABLE IF NOT EXISTS @departments (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT '',
        town TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE IF NOT EXISTS @risk_points (
        id TEXT PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        external_id TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL DEFAULT '',
        location TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        accident_types TEXT NOT NULL DEFAULT '',
        level INTEGER NOT NULL DEFAULT 4,
        colour TEXT NOT NULL DEFAULT '',
        method TEXT NOT NULL DEFAULT '',
        score TEXT NOT NULL DEFAULT '',
        control_tier TEXT NOT NULL DEFAULT '',
        control_measures TEXT NOT NULL DEFAULT '',
        emergency_measures TEXT NOT NULL DEFAULT '',
        responsible_unit TEXT NOT NULL DEFAULT '',
        responsible_person TEXT NOT NULL DEFAULT '',
        responsible_mobile TEXT NOT NULL DEFAULT '',
        retired INTEGER NOT NULL DEFAULT 0,
        assessed_at TEXT NOT NULL DEFAULT '',
        town TEXT NOT NULL DEFAULT '',
        enterprise_name TEXT NOT NULL DEFAULT '',
        uscc TEXT NOT NULL DEFAULT ''
    )""",
    # 一镇一册: a town's level-1/2 points in the book's order
    "CREATE INDEX IF NOT EXISTS risk_points_book ON @risk_points (town, retired, level, "
    "enterprise_name, name)",
    "CREATE INDEX IF NOT EXISTS risk_points_enterprise ON @risk_points (enterprise_id, level)",
    """CREATE TABLE IF NOT EXISTS @dangers (
        id TEXT PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        risk_point_id TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        found_on TEXT NOT NULL DEFAULT '',
        department TEXT NOT NULL DEFAULT '',
        grade TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'reported',
        deadline TEXT NOT NULL DEFAULT '',
        responsible_person TEXT NOT NULL DEFAULT '',
        overdue_at TEXT NOT NULL DEFAULT '',
        escalated_at TEXT NOT NULL DEFAULT '',
        reported_at TEXT NOT NULL DEFAULT '',
        closed_at TEXT NOT NULL DEFAULT '',
        town TEXT NOT NULL DEFAULT '',
        enterprise_name TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS dangers_town ON @dangers (town, state, grade)",
    "CREATE INDEX IF NOT EXISTS dangers_town_overdue ON @dangers (town, overdue_at)",
    "CREATE INDEX IF NOT EXISTS dangers_enterprise ON @dangers (enterprise_id, reported_at)",
    """CREATE TABLE IF NOT EXISTS @cases (
        id TEXT PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        danger_id TEXT NOT NULL DEFAULT '',
        department TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'opened',
        reason TEXT NOT NULL DEFAULT '',
        opened_on TEXT NOT NULL DEFAULT '',
        last_step_on TEXT NOT NULL DEFAULT '',
        document_no TEXT NOT NULL DEFAULT '',
        penalty TEXT NOT NULL DEFAULT '',
        town TEXT NOT NULL DEFAULT '',
        enterprise_name TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS cases_town ON @cases (town, state)",
    "CREATE INDEX IF NOT EXISTS cases_department ON @cases (department, opened_on)",
    "CREATE INDEX IF NOT EXISTS cases_enterprise ON @cases (enterprise_id)",
    """CREATE TABLE IF NOT EXISTS @inspections (
        id TEXT PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        department TEXT NOT NULL DEFAULT '',
        document_no TEXT NOT NULL DEFAULT '',
        inspector_name TEXT NOT NULL DEFAULT '',
        inspected_on TEXT NOT NULL DEFAULT '',
        findings INTEGER NOT NULL DEFAULT 0,
        reinspections INTEGER NOT NULL DEFAULT 0,
        town TEXT NOT NULL DEFAULT '',
        enterprise_name TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS inspections_department ON @inspections (department, inspected_on)",
    "CREATE INDEX IF NOT EXISTS inspections_enterprise ON @inspections (enterprise_id)",
    """CREATE TABLE IF NOT EXISTS @filings (
        enterprise_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        document_hash TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        compiled_at TEXT NOT NULL DEFAULT '',
        submitted_at TEXT NOT NULL DEFAULT '',
        superseded_by INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (enterprise_id, version)
    )""",
    """CREATE TABLE IF NOT EXISTS @deliveries (
        enterprise_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        department TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        reason TEXT NOT NULL DEFAULT '',
        receipt TEXT NOT NULL DEFAULT '',
        submitted_at TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL DEFAULT '',
        town TEXT NOT NULL DEFAULT '',
        enterprise_name TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (enterprise_id, version, department)
    )""",
    "CREATE INDEX IF NOT EXISTS deliveries_department ON @deliveries (department, submitted_at)",
    """CREATE TABLE IF NOT EXISTS @campaigns (
        town TEXT NOT NULL,
        name TEXT NOT NULL,
        deadline TEXT NOT NULL,
        opened_at TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (town, name)
    )""",
    # what an auditor's timeline lists: every event about an enterprise, as its store numbered it
    """CREATE TABLE IF NOT EXISTS @events (
        upstream TEXT NOT NULL,
        notification_id BIGINT NOT NULL,
        enterprise_id TEXT NOT NULL,
        originator_id TEXT NOT NULL,
        originator_version INTEGER NOT NULL,
        type TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (upstream, notification_id)
    )""",
    "CREATE INDEX IF NOT EXISTS events_enterprise ON @events (enterprise_id, occurred_at)",
    "CREATE INDEX IF NOT EXISTS events_originator ON @events (originator_id, originator_version)",
    # the audit's signed tree heads, as departments and the town office receive them (the console's
    # anchors); the table of the audit's former checkpoints goes (nothing publishes them any more)
    "DROP TABLE IF EXISTS @anchors",
    """CREATE TABLE IF NOT EXISTS @tree_heads (
        store TEXT NOT NULL,
        sequence BIGINT NOT NULL,
        tree_size BIGINT NOT NULL,
        position BIGINT NOT NULL,
        root_hash TEXT NOT NULL DEFAULT '',
        signed_at TEXT NOT NULL DEFAULT '',
        public_key TEXT NOT NULL DEFAULT '',
        signature TEXT NOT NULL DEFAULT '',
        previous_size BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (store, sequence)
    )""",
    # the console's own records: auditors' verification runs and their reports
    """CREATE TABLE IF NOT EXISTS @verifications (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        started_by TEXT NOT NULL DEFAULT '',
        finished_at TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL DEFAULT 'running',
        report TEXT NOT NULL DEFAULT ''
    )""",
)
