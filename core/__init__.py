"""Shared plumbing every feature stands on: the database engine, the Redis
connection, the per-customer mailboxes, the job dispatcher and the per-process
runtime that jobs use instead of a Flask app."""
