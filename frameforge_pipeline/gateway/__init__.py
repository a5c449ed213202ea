"""The Dagster instance as the API reads and changes it: a job's runs (``job_runs``), what
leaves the store and the instance when results expire or a video is deleted (``retention``),
and whether the daemon is doing its work (``daemon_health``). The sensors use them too. The
API imports from the pipeline only this package, the options model and the store (the
import contracts in pyproject.toml)."""
