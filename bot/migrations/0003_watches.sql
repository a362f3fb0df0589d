-- Live sources: what is watched, and how far each watch has read, so a restart resumes where it stopped.

CREATE TABLE watches (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                 -- 'xenforo', 'discord_channel', 'jsonl'
    target TEXT NOT NULL,               -- thread URL, channel id, file path
    interval_seconds REAL,
    added_by INTEGER,
    added_at REAL NOT NULL,
    removed_at REAL,
    UNIQUE (kind, target)
);

CREATE TABLE watch_state (
    watch_id INTEGER PRIMARY KEY REFERENCES watches (id),
    last_post_id TEXT,                  -- the newest post seen
    last_page_url TEXT,
    etag TEXT,
    last_modified TEXT,
    cursor TEXT,                        -- e.g. the byte offset of a followed file
    last_polled_at REAL,
    last_success_at REAL,
    next_poll_at REAL,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
