"""Writes projected events to Redis atomically and exactly once (a Lua script per event)."""

import json
import os
from dataclasses import dataclass
from typing import Any

import redis

from pipeline.events.entries import Change
from pipeline.events.keys import Keys

REDIS_URL_ENV = "REDIS_URL"
PREFIX_ENV = "PIPELINE_REDIS_PREFIX"
DEFAULT_URL = "redis://127.0.0.1:6379/0"

# KEYS (built by events/keys.py): position, global position, seq, project stream, global stream, logs,
#       progress, progress channel, active task, job result, batch progress ("" without a batch)
# ARGV: unused, project, run_id, storage_id, entry (flat JSON array or ""), log ("" or JSON),
#       progress, active, clear_active, job_result, batch, final_status, caps (JSON)
_PUBLISH = """
local project, run_id = ARGV[2], ARGV[3]
local sid = tonumber(ARGV[4])
local caps = cjson.decode(ARGV[13])
local ppos, gpos, seqkey, stream, gstream = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local logs, progress, channel, activekey, jobkey, batchkey = KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local plast = tonumber(redis.call('GET', ppos) or '-1')
local glast = tonumber(redis.call('GET', gpos) or '-1')
if sid <= plast and sid <= glast then return 0 end
if sid > glast then redis.call('SET', gpos, sid, 'EX', caps.position_ttl) end
if ARGV[5] ~= '' then
  local flat = cjson.decode(ARGV[5])
  local seq = redis.call('INCR', seqkey)
  table.insert(flat, 'seq'); table.insert(flat, tostring(seq))
  if sid > plast then
    redis.call('XADD', stream, 'MAXLEN', '~', caps.stream, '*', unpack(flat))
  end
  if sid > glast then
    redis.call('XADD', gstream, 'MAXLEN', '~', caps.global_stream, '*', unpack(flat))
  end
end
if sid <= plast then return 1 end
redis.call('SET', ppos, sid, 'EX', caps.position_ttl)
if ARGV[6] ~= '' then
  redis.call('RPUSH', logs, ARGV[6])
  redis.call('LTRIM', logs, -caps.logs, -1)
end
if ARGV[7] ~= '' then
  redis.call('SET', progress, ARGV[7])
  redis.call('PUBLISH', channel, ARGV[7])
end
if ARGV[8] ~= '' then redis.call('SET', activekey, ARGV[8]) end
if ARGV[9] == '1' then
  local active = redis.call('GET', activekey)
  if active and cjson.decode(active).run_id == run_id then redis.call('DEL', activekey) end
end
if ARGV[10] ~= '' then redis.call('SET', jobkey, ARGV[10], 'EX', 3600) end
if ARGV[11] ~= '' and ARGV[12] ~= '' then
  local key = batchkey
  local raw = redis.call('GET', key)
  local batch
  if raw then batch = cjson.decode(raw) else
    batch = {batch = ARGV[11], total = 0, rejected = 0, results = {}} end
  if type(batch.results) ~= 'table' then batch.results = {} end
  local found = false
  for _, r in ipairs(batch.results) do
    if r.run_id == run_id or (r.project == project and r.status ~= 'rejected' and (r.run_id == nil or r.run_id == cjson.null or r.run_id == '')) then
      r.run_id = run_id; r.status = ARGV[12]; found = true
      if ARGV[12] == 'failed' and caps.error then r.error = caps.error end
      if caps.error_code and (ARGV[12] == 'failed' or ARGV[12] == 'canceled') then r.error_code = caps.error_code end
    end
  end
  if not found then
    table.insert(batch.results, {project = project, run_id = run_id, status = ARGV[12], error = caps.error or cjson.null,
                                 error_code = caps.error_code})  -- absent unless the run failed or was canceled
  end
  local counts = {queued = 0, running = 0, succeeded = 0, failed = 0, canceled = 0}
  for _, r in ipairs(batch.results) do
    if counts[r.status] ~= nil then counts[r.status] = counts[r.status] + 1 end
  end
  for k, v in pairs(counts) do batch[k] = v end
  if (batch.total or 0) < #batch.results then batch.total = #batch.results end
  redis.call('SET', key, cjson.encode(batch))
end
return 1
"""


@dataclass(frozen=True)
class Caps:
    stream: int = 10000
    global_stream: int = 100000
    logs: int = 5000
    position_ttl: int = 30 * 24 * 3600

    @classmethod
    def from_env(cls) -> "Caps":
        return cls(
            stream=int(os.environ.get("PIPELINE_EVENTS_STREAM_CAP", cls.stream)),
            global_stream=int(os.environ.get("PIPELINE_EVENTS_GLOBAL_CAP", cls.global_stream)),
            logs=int(os.environ.get("PIPELINE_LOGS_CAP", cls.logs)),
        )


def redis_url() -> str:
    return os.environ.get(REDIS_URL_ENV) or DEFAULT_URL


def redis_prefix() -> str:
    return os.environ.get(PREFIX_ENV, "")


def connect(url: str | None = None, timeout: float = 2.0) -> redis.Redis:
    """A Redis client with short timeouts, so an outage costs a bounded wait."""
    return redis.Redis.from_url(url or redis_url(), socket_timeout=timeout, socket_connect_timeout=timeout,
                                decode_responses=True)


@dataclass
class Published:
    run_id: str
    storage_id: int
    project: str
    batch: str | None
    change: Change
    job_result: dict[str, Any] | None = None


class RedisSink:
    """Publishes changes; a change already applied (same run, storage id at or below) is skipped."""

    def __init__(self, client: redis.Redis, prefix: str = "", caps: Caps | None = None):
        self.client = client
        self.prefix = prefix
        self.caps = caps or Caps.from_env()
        self.keys = Keys(prefix)
        self._script = client.register_script(_PUBLISH)

    def publish(self, items: list[Published]) -> int:
        """Apply changes in order in one round trip; returns how many were new."""
        if not items:
            return 0
        pipe = self.client.pipeline(transaction=False)
        for item in items:
            self._script(keys=self._keys(item), args=self._args(item), client=pipe)
        return sum(int(r) for r in pipe.execute())

    def _keys(self, item: Published) -> list[str]:
        k, project = self.keys, item.project
        return [k.position(item.run_id), k.global_position(item.run_id), k.seq(project), k.stream(project),
                k.global_stream(), k.logs(project), k.progress(project), k.progress_channel(project),
                k.active(project), k.job_result(item.run_id), k.batch(item.batch) if item.batch else ""]

    def _args(self, item: Published) -> list[str]:
        c = item.change
        flat = [x for pair in (c.entry or {}).items() for x in pair]
        caps = {"stream": self.caps.stream, "global_stream": self.caps.global_stream, "logs": self.caps.logs,
                "position_ttl": self.caps.position_ttl}
        if c.entry and c.entry.get("error"):
            caps["error"] = c.entry["error"][:2000]
        if c.entry and c.entry.get("error_code"):
            caps["error_code"] = c.entry["error_code"]

        def dump(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False) if value is not None else ""

        return ["", item.project, item.run_id, str(item.storage_id), dump(flat) if c.entry else "",
                dump(c.log), dump(c.progress), dump(c.active), "1" if c.clear_active else "0",
                dump(item.job_result), item.batch or "", c.final_status or _batch_status(c), json.dumps(caps)]


def _batch_status(change: Change) -> str:
    """The batch result status an event implies (queued, running), or '' when it implies none."""
    if change.entry is None:
        return ""
    return {"task_queued": "queued", "task_started": "running"}.get(change.entry["type"], "")
