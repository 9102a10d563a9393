"""Redis as a Dagster resource, for the Dagster code that writes to it (sensors, the quota sync).

Empty fields fall back to the environment when used (`REDIS_URL`, `PIPELINE_REDIS_PREFIX`, the caps),
so the webserver, the daemon, the run workers and the projector (events/target.py) agree.
"""

import dagster as dg
import redis
from pydantic import Field

from pipeline.events.keys import Keys
from pipeline.events.redis_sink import Caps, connect, redis_prefix, redis_url


class RedisResource(dg.ConfigurableResource):
    """Where events, progress, batch records and quotas go."""

    url: str = Field(default="", description="redis://host:port/db (empty: REDIS_URL, else redis://127.0.0.1:6379/0)")
    prefix: str | None = Field(default=None, description="namespace before every key (unset: PIPELINE_REDIS_PREFIX)")
    stream_cap: int | None = Field(default=None, ge=1, description="length cap of events:{project} (unset: env)")
    global_stream_cap: int | None = Field(default=None, ge=1, description="length cap of `events` (unset: env)")
    logs_cap: int | None = Field(default=None, ge=1, description="length cap of generation_logs:{project}")

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return connect(self.url or redis_url(), timeout=timeout)

    @property
    def key_prefix(self) -> str:
        return redis_prefix() if self.prefix is None else self.prefix

    @property
    def redis_keys(self) -> Keys:  # not `keys`: a resource is also read as a mapping
        return Keys(self.key_prefix)

    @property
    def caps(self) -> Caps:
        env = Caps.from_env()
        return Caps(stream=self.stream_cap or env.stream, global_stream=self.global_stream_cap or env.global_stream,
                    logs=self.logs_cap or env.logs)
