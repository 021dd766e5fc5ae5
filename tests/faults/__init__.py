"""The fault suite: real workers killed again and again, Redis, PostgreSQL, workers and beats
restarted, a crash between a commit and its dispatch, against a private PostgreSQL and Redis
pair (docs/testing.md, "Fault injection")."""
