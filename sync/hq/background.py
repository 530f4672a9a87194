"""What HQ does in the background, once across all its processes (`sync.hq.jobs` says how):

- `purge`, every `purge_interval_hours` (a day), and at once when the retention period changes: entries past the
  retention period go (on PostgreSQL whole months are dropped and the months ahead made: `sync.hq.retention`).
- `housekeeping`, hourly: ended staff sessions, list uploads nobody applied within a day or whose file never
  arrived whole, rate-limit counts whose window has passed, HQ processes no longer heard from.
- `withdraw-keys`, every minute: issuer keys rotated out whose overlap ended are withdrawn from every bundle
  (`sync.hq.issuer_keys`).
- `check-upload:<id>`: checking a list uploaded through the dashboard (queued by the upload).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from sync.hq import audit, issuer_keys, rate_store, uploads
from sync.hq.retention import purge_in
from sync.hq.runtime import Hq
from sync.hq.staff import purge_sessions

HOUSEKEEPING = timedelta(hours=1)
KEY_WITHDRAWAL = timedelta(minutes=1)


def install(hq: Hq) -> None:
    """Register this process's jobs (and schedule the periodic ones, if no process has)."""
    settings = hq.settings

    def purge(conn: Connection, now: datetime) -> str:
        done = purge_in(conn, settings.retention_days, now)
        months = f" ({done.months_dropped} with whole months)" if done.months_dropped else ""
        return f"purged {done.entries} entries{months} and {done.batches} upload records older than {done.cutoff}"

    def housekeeping(conn: Connection, now: datetime) -> str:
        sessions = purge_sessions(conn, hq.session_times, now)
        expired = uploads.expire(conn, now)
        cut_off = uploads.fail_cut_off(conn, now)
        counts = rate_store.forget_expired(conn, hq.clock())
        gone = hq.jobs.forget_gone_processes(conn, now)
        return (f"{sessions} ended sessions, {expired} uploads not applied, {cut_off} uploads cut off, {counts} "
                f"rate-limit counts, {gone} processes gone")

    def withdraw_keys(conn: Connection, now: datetime) -> str:
        withdrawn = issuer_keys.withdraw_due_in(conn, now)
        return f"withdrew issuer keys {', '.join(withdrawn)}: their overlap ended" if withdrawn else "none due"

    def refused(checked: uploads.Upload) -> None:
        """A file refused is in the audit log with its reason (the upload alone says only that a file came)."""
        audit.record(hq.db, checked.uploaded_by, "list refused",
                     {"upload": checked.id, "file": checked.filename, "why": checked.message})

    def check_upload(upload_id: str) -> str:
        district_key = hq.secrets.district_key if hq.secrets is not None else None
        return uploads.check_stored(hq.db, upload_id, district_key, settings.max_list_rows,
                                    lambda: hq.jobs.stopping, refused)

    hq.jobs.every("purge", timedelta(hours=settings.purge_interval_hours), f"retention_days={settings.retention_days}",
                  purge)
    hq.jobs.every("housekeeping", HOUSEKEEPING, "", housekeeping)
    hq.jobs.every("withdraw-keys", KEY_WITHDRAWAL, "", withdraw_keys)
    hq.jobs.one_off(uploads.CHECK_JOB, check_upload)
