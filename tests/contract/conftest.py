"""Contract suites run on every adapter of a port."""

from tests.contract.redis_support import redis_available, redis_client, redis_prefix

__all__ = ["redis_available", "redis_client", "redis_prefix"]
