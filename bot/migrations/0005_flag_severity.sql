-- A flag's severity: 'alert' flags are posted to the moderators' channel; 'minor' ones are only listed
-- (`/modq list`, digests) and never make an outbox row of their own. Flags stored before are alerts.

ALTER TABLE flags ADD COLUMN severity TEXT NOT NULL DEFAULT 'alert' CHECK (severity IN ('alert', 'minor'));
