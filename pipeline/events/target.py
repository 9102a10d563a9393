"""Where a projection goes: a Redis URL and a key prefix, named by a digest that never shows a password."""

import hashlib
import re
from dataclasses import dataclass

from pipeline.events.redis_sink import redis_prefix, redis_url

_PASSWORDS = ((re.compile(r"(://[^/@:]*:)[^@]*@"), r"\1***@"), (re.compile(r"(password=)[^&]*"), r"\1***"))


@dataclass(frozen=True)
class Target:
    url: str
    prefix: str = ""

    @classmethod
    def from_env(cls) -> "Target":
        """REDIS_URL and PIPELINE_REDIS_PREFIX as this process has them configured."""
        return cls(redis_url(), redis_prefix())

    @property
    def digest(self) -> str:
        """A short stable name of the target (URL as configured, and prefix), for sockets and state rows."""
        return hashlib.sha256(f"{self.url}|{self.prefix}".encode()).hexdigest()[:16]

    def describe(self) -> str:
        """The URL with any password masked, and the prefix: safe to log."""
        shown = self.url
        for pattern, masked in _PASSWORDS:
            shown = pattern.sub(masked, shown)
        return f"{shown} prefix {self.prefix!r}"
