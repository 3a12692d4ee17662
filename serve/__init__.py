"""The real service on one machine, started by `python app.py` / `make run` when
Messenger credentials are set: the schema upgraded first (the Procfile's
`release`), then the Procfile's processes under one supervisor (honcho), with a
redis-server of its own (append-only, fsync always, data under `instance/redis`)
when REDIS_URL is unset. Ctrl+C stops everything it started."""
