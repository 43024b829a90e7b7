"""One sync pass: push the outbox, upload photos of acknowledged readings, pull assignments and decisions.

Runs in a background thread (synchronous httpx); passes never overlap (a "sync now" tap waits for the running
one), and the caller schedules the next pass after ``SyncReport.next_delay_s``. Nothing here deletes
a reading: every server answer is recorded on the reading, and anything without an answer stays in the outbox.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from mobile_app.store import (
    OutboxItem,
    Store,
    apply_pull,
    apply_push_results,
    count_due_outbox,
    get_pull_cursor,
    mark_photo_failed,
    mark_photo_uploaded,
    mark_retry,
    next_outbox_attempt_at,
    pending_outbox,
    photos_to_upload,
)
from mobile_app.sync.api_client import ApiError, AuthExpired, SyncApi, SyncError, TransportError
from mobile_app.sync.backoff import Backoff
from shared_billing.protocol import MAX_BATCH, Outcome, PushRequest, PushResult

__all__ = ["ProgressCallback", "SyncEngine", "SyncReport", "photo_content_type"]

ProgressCallback = Callable[[int, int], None]

# A whole push refused with one of these says "this request is wrong": split it to find the readings at fault.
# Other 4xx (403, a wrong base URL's 404, 405 ...) blame the account or the setup, not the readings: retry.
_BATCH_REFUSALS = frozenset({400, 413, 422})
# Photo answers that refuse the bytes themselves; uploading them again cannot succeed.
_PHOTO_REFUSALS = frozenset({400, 413, 415, 422})
_IMAGE_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


@dataclass
class SyncReport:
    """What one pass did. ``error`` is why it stopped early (None: it ran to the end)."""

    pushed: int = 0  # readings sent in this pass
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0  # per-item rejections and readings refused by a whole-batch 4xx
    conflict: int = 0
    photos: int = 0  # photos the server now holds (201 stored or 200 already had it)
    pulled: int = 0  # meter assignments received
    removed: int = 0  # meters no longer assigned
    decisions: int = 0  # review decisions received
    error: SyncError | None = None
    next_delay_s: float = 0.0  # when to run the next pass

    @property
    def needs_sign_in(self) -> bool:
        return isinstance(self.error, AuthExpired)


def photo_content_type(data: bytes) -> str:
    """The image type by its magic bytes; the server decides what it accepts (415 otherwise)."""
    for signature, content_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


class SyncEngine:
    """Moves readings, photos, assignments and decisions between the local store and the server."""

    def __init__(
        self,
        *,
        store: Store,
        api: SyncApi,
        device_id: str,
        clock: Callable[[], datetime],
        batch_size: int = MAX_BATCH,
        backoff: Backoff | None = None,
        on_progress: ProgressCallback | None = None,
        idle_delay_s: float = 300.0,
    ) -> None:
        """``clock`` returns aware UTC "now"; ``on_progress(done, total)`` reports pushed readings."""
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be within 1..{MAX_BATCH}")
        self._store = store
        self._api = api
        self._device_id = device_id
        self._clock = clock
        self._batch_size = batch_size
        # Jitter only spreads retries over time; it needs no cryptographic randomness.
        self._backoff = backoff or Backoff(random=random.Random().random)  # noqa: S311
        self._on_progress = on_progress
        self._idle_delay_s = idle_delay_s
        self._consecutive_failures = 0
        self._one_pass_at_a_time = threading.Lock()

    def run_once(self, *, ignore_retry_times: bool = False) -> SyncReport:
        """One pass; sync errors go into the report (never raised), anything else is a bug and propagates.

        ``ignore_retry_times`` pushes readings still waiting out their backoff too: a person asked ("sync now"),
        or the app has just started and the reason for the earlier failures may be gone.
        """
        with self._one_pass_at_a_time:
            report = SyncReport()
            try:
                self._push_outbox(report, ignore_retry_times)
                self._upload_photos(report)
                self._pull(report)
            except SyncError as error:
                report.error = error
            report.next_delay_s = self._next_delay_s(report.error)
            return report

    def _next_delay_s(self, error: SyncError | None) -> float:
        if isinstance(error, AuthExpired):
            # Retrying cannot help until the user signs in again; the app shows that and calls run_once.
            self._consecutive_failures = 0
            return self._idle_delay_s
        if error is not None:
            self._consecutive_failures += 1
            return self._backoff.delay_s(self._consecutive_failures)
        self._consecutive_failures = 0
        now = self._clock()
        due_at = next_outbox_attempt_at(store=self._store, now=now)
        if due_at is None:
            return self._idle_delay_s
        return min(self._idle_delay_s, max(0.0, (due_at - now).total_seconds()))

    def _progress(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            # Readings saved during the pass are pushed too, so done may pass the count taken at the start.
            self._on_progress(done, max(done, total))

    def _push_outbox(self, report: SyncReport, ignore_retry_times: bool) -> None:
        started_at = self._clock()
        due_by = datetime.max.replace(tzinfo=UTC) if ignore_retry_times else started_at
        total = count_due_outbox(store=self._store, now=due_by)
        sent: set[UUID] = set()
        if total:
            self._progress(0, total)
        while True:
            items = pending_outbox(store=self._store, limit=self._batch_size, now=due_by)
            if not items or any(item.reading.uuid in sent for item in items):
                # Every batch either leaves the outbox or raises, so a repeat would mean a loop: stop.
                return
            sent.update(item.reading.uuid for item in items)
            report.pushed += len(items)
            self._push_batch(items, report)
            self._progress(len(sent), total)

    def _push_batch(self, items: Sequence[OutboxItem], report: SyncReport) -> None:
        try:
            self._push_or_split(items, report)
        except (TransportError, ApiError) as error:
            # Readings answered before the failure already left the outbox; mark_retry skips them.
            failures = max(item.attempts for item in items) + 1
            delay = timedelta(seconds=self._backoff.delay_s(failures))
            uuids = [str(item.reading.uuid) for item in items]
            retry_at = self._clock() + delay
            mark_retry(store=self._store, uuids=uuids, error=str(error), next_attempt_at=retry_at)
            raise

    def _push_or_split(self, items: Sequence[OutboxItem], report: SyncReport) -> None:
        request = PushRequest(
            device_id=self._device_id, sent_at=self._clock(), readings=[item.reading for item in items]
        )
        try:
            response = self._api.push(request)
        except ApiError as error:
            if error.status not in _BATCH_REFUSALS:
                raise
            if len(items) > 1:
                # One bad reading must not sink the rest: halve until the refused ones stand alone.
                middle = len(items) // 2
                self._push_or_split(items[:middle], report)
                self._push_or_split(items[middle:], report)
                return
            refused = PushResult(
                uuid=items[0].reading.uuid, outcome=Outcome.REJECTED, code=error.code, message=error.message
            )
            self._record_results([refused], report)
            return
        sent = {item.reading.uuid for item in items}
        results = [result for result in response.results if result.uuid in sent]
        self._record_results(results, report)
        unanswered = sent - {result.uuid for result in results}
        if unanswered:
            raise TransportError(f"no answer for {len(unanswered)} of {len(sent)} readings in the push")

    def _record_results(self, results: Sequence[PushResult], report: SyncReport) -> None:
        apply_push_results(store=self._store, results=results, now=self._clock())
        for result in results:
            if result.outcome is Outcome.STORED:
                report.stored += 1
            elif result.outcome is Outcome.DUPLICATE:
                report.duplicate += 1
            elif result.outcome is Outcome.REJECTED:
                report.rejected += 1
            else:
                report.conflict += 1

    def _upload_photos(self, report: SyncReport) -> None:
        for photo in photos_to_upload(store=self._store):
            try:
                data = photo.local_path.read_bytes()
            except OSError as error:
                # Not terminal: storage that is unmounted now may be back on the next pass.
                mark_photo_failed(
                    store=self._store,
                    sha256=photo.sha256,
                    code="local.photo_unreadable",
                    message=str(error),
                    terminal=False,
                )
                continue
            try:
                self._api.upload_photo(sha256=photo.sha256, data=data, content_type=photo_content_type(data))
            except ApiError as error:
                # 404 photo.not_referenced: the server has no reading naming it (yet); keep it and try again.
                mark_photo_failed(
                    store=self._store,
                    sha256=photo.sha256,
                    code=error.code,
                    message=error.message,
                    terminal=error.status in _PHOTO_REFUSALS,
                )
                continue
            mark_photo_uploaded(store=self._store, sha256=photo.sha256, uploaded_at=self._clock())
            report.photos += 1

    def _pull(self, report: SyncReport) -> None:
        pull = self._api.pull(cursor=get_pull_cursor(store=self._store))
        apply_pull(store=self._store, pull=pull)
        report.pulled += len(pull.meters)
        report.removed += len(pull.removed_meter_ids)
        report.decisions += len(pull.decisions)
