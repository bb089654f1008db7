-- What lemmy's runner gives every session, migrations included: its database URL carries
-- `options=-c lemmy.protocol_and_hostname=...` (crates/utils/src/settings), which migrations
-- read with current_setting(). Run once by the scratch server's superuser (--setup).
ALTER ROLE ALL SET lemmy.protocol_and_hostname = 'http://localhost:8536';
