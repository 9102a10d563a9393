"""Every Redis key of the projection (SPEC §2), named once; every reader and writer builds them here.

A key may carry a namespace prefix (`PIPELINE_REDIS_PREFIX`); the names after it are the ones the
older system's listeners know and must not change.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = ""

    # SPEC §2: what listeners read
    def progress(self, project: str) -> str:
        return f"{self.prefix}generation_progress:{project}"

    def progress_channel(self, project: str) -> str:
        return f"{self.prefix}progress:{project}"

    def stream(self, project: str) -> str:
        return f"{self.prefix}events:{project}"

    def global_stream(self) -> str:
        return f"{self.prefix}events"

    def logs(self, project: str) -> str:
        return f"{self.prefix}generation_logs:{project}"

    def active(self, project: str) -> str:
        return f"{self.prefix}active_task:{project}"

    def job_result(self, run_id: str) -> str:
        return f"{self.prefix}job_result:{run_id}"

    def batch(self, batch_id: str) -> str:
        return f"{self.prefix}batch_progress:{batch_id}"

    def quota(self, provider: str) -> str:
        return f"{self.prefix}quota:{provider}"

    # the projection's own bookkeeping
    def seq(self, project: str) -> str:
        """The per-project entry counter (`seq`); `_quota` numbers the quota warnings."""
        return f"{self.prefix}projection:seq:{project}"

    def position(self, run_id: str) -> str:
        """How far the run got in its project's stream (a storage id)."""
        return f"{self.prefix}projection:pos:{run_id}"

    def global_position(self, run_id: str) -> str:
        """How far the run got in the global stream."""
        return f"{self.prefix}projection:gpos:{run_id}"

    def epoch(self, target: str) -> str:
        """Set by each projection target; missing means Redis lost what was projected."""
        return f"{self.prefix}projection:epoch:{target}"

    def error(self, project: str) -> str:
        """Why one of the project's runs cannot be projected (events/faults.py)."""
        return f"{self.prefix}projection:error:{project}"

    # what deleting a project removes
    def project_keys(self, project: str) -> list[str]:
        return [self.stream(project), self.progress(project), self.logs(project), self.active(project),
                self.seq(project), self.error(project)]

    def run_keys(self, run_id: str) -> list[str]:
        return [self.job_result(run_id), self.position(run_id), self.global_position(run_id)]
