"""kvserver: a Redis 7.0-compatible in-memory key-value server in Python."""

__version__ = "0.1.0"
# The Redis release whose behaviour kvserver implements; clients gate
# features on the version INFO reports, so this is what they see.
REDIS_VERSION = "7.0.15"
