"""The concurrent-job and storage quotas against requests made at once, on PostgreSQL
(where the quota lock is the user's row, ``SELECT ... FOR UPDATE``):
tests/api/test_quota_races.py's tests with the app database of tests/integration."""

from tests.api.test_quota_races import (  # noqa: F401  (fixtures and tests, collected here)
    api,
    live_jobs,
    test_fifteen_jobs_asked_at_once_against_five,
    test_five_upload_urls_asked_at_once_reserve_no_more_than_the_quota,
    test_retries_never_make_more_jobs_live_than_allowed,
    user,
)
