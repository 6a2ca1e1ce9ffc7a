"""Redis Streams bus tests talk to the real Redis at 127.0.0.1:6379."""

from tests.contract.redis_support import redis_available, redis_client, redis_prefix

__all__ = ["redis_available", "redis_client", "redis_prefix"]
