-- Moderators' decisions, the audit log of every moderator action and settings change, and settings
-- changed at run time (thresholds).

CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    flag_id INTEGER NOT NULL REFERENCES flags (id),
    moderator_id INTEGER,               -- Discord user id; NULL from the command line
    moderator_name TEXT,
    verdict TEXT NOT NULL CHECK (verdict IN ('confirm', 'dismiss', 'escalate')),
    note TEXT,
    decided_at REAL NOT NULL
);
CREATE INDEX decisions_flag ON decisions (flag_id, id);
CREATE INDEX decisions_moderator ON decisions (moderator_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor_id INTEGER,
    actor_name TEXT,
    action TEXT NOT NULL,               -- 'decision.confirm', 'setting.change', 'watch.add', ...
    target_kind TEXT,
    target_id INTEGER,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit_log (at);
CREATE INDEX audit_action ON audit_log (action, at);

CREATE TABLE setting_overrides (
    key TEXT PRIMARY KEY,               -- a Settings path such as 'thresholds.inflammatory'
    value TEXT NOT NULL,                -- JSON
    updated_at REAL NOT NULL,
    updated_by INTEGER
);
