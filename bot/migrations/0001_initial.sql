-- Sources, threads, posts, flags and the alert outbox.
-- Times are Unix seconds (REAL, UTC); Discord ids are INTEGER; JSON columns hold TEXT.

CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                 -- 'web', 'discord', 'jsonl', 'file', ...
    key TEXT NOT NULL,                  -- the scope in which post ids are unique (forum origin, guild id, file)
    name TEXT,
    created_at REAL NOT NULL,
    UNIQUE (kind, key)
);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources (id),
    external_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    url TEXT,
    version INTEGER NOT NULL DEFAULT 0,  -- bumped by every write of the thread's posts
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (source_id, external_id)
);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources (id),
    thread_id INTEGER NOT NULL REFERENCES threads (id),
    external_id TEXT NOT NULL,
    author TEXT,
    author_id INTEGER,                  -- the author's Discord user id, where the source has one
    position INTEGER,
    url TEXT,
    created_at TEXT,                    -- as the source wrote it
    user_title TEXT,
    text TEXT NOT NULL,
    quotes TEXT NOT NULL DEFAULT '[]',
    content_hash TEXT NOT NULL,         -- sha256 of text and quotes: a new hash is an edit
    revision INTEGER NOT NULL DEFAULT 1,
    scores TEXT NOT NULL DEFAULT '{}',  -- every category's score at the latest review
    first_seen_at REAL NOT NULL,
    reviewed_at REAL NOT NULL,
    UNIQUE (source_id, external_id)
);
CREATE INDEX posts_thread ON posts (thread_id, id);
CREATE INDEX posts_author ON posts (author COLLATE NOCASE);

-- Earlier revisions of edited posts, kept so a flag's evidence can be shown against the text it was about.
CREATE TABLE post_revisions (
    post_id INTEGER NOT NULL REFERENCES posts (id),
    revision INTEGER NOT NULL,
    text TEXT NOT NULL,
    quotes TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    scores TEXT NOT NULL,
    reviewed_at REAL NOT NULL,
    PRIMARY KEY (post_id, revision)
);

-- The outbox: one row per flagged post revision ('post'), and one per digest that folds a burst of them.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('post', 'digest')),
    thread_id INTEGER NOT NULL REFERENCES threads (id),
    post_id INTEGER REFERENCES posts (id),
    revision INTEGER,
    digest_id INTEGER REFERENCES alerts (id),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'folded')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try_at REAL NOT NULL,
    claimed_at REAL,                    -- first claim: when its delivery unit was fixed
    lease_until REAL,
    claim_token TEXT,
    last_error TEXT,
    created_at REAL NOT NULL,
    sent_at REAL,
    channel_id INTEGER,
    message_id INTEGER,
    CHECK ((kind = 'post') = (post_id IS NOT NULL)),
    UNIQUE (post_id, revision)
);
CREATE INDEX alerts_due ON alerts (status, next_try_at);
CREATE INDEX alerts_thread ON alerts (thread_id, claimed_at);
CREATE INDEX alerts_digest ON alerts (digest_id) WHERE digest_id IS NOT NULL;
CREATE INDEX alerts_message ON alerts (message_id) WHERE message_id IS NOT NULL;

CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id),
    revision INTEGER NOT NULL,
    alert_id INTEGER REFERENCES alerts (id),
    category TEXT NOT NULL,
    score REAL NOT NULL,
    threshold REAL NOT NULL,
    reasons TEXT NOT NULL,              -- JSON list of sentences
    evidence TEXT NOT NULL,             -- JSON list of character spans
    model_version TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'confirmed', 'dismissed', 'escalated', 'superseded')),
    created_at REAL NOT NULL,
    UNIQUE (post_id, revision, category)
);
CREATE INDEX flags_status ON flags (status, category);
CREATE INDEX flags_alert ON flags (alert_id);
