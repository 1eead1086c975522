import redis


def test_redis_round_trip_under_run_prefix(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    key = f"{redis_prefix}:ping"
    client.set(key, "pong", ex=60)
    assert client.get(key) == b"pong"
    client.delete(key)
    client.close()
