"""One sync pass: push the outbox, upload photos of acknowledged readings, pull assignments and decisions.

Runs in a background thread (synchronous httpx); passes never overlap (a "sync now" tap waits for the running
one), and the caller schedules the next pass after ``SyncReport.next_delay_s``. Nothing here deletes
a reading: every server answer is recorded on the reading, and anything without an answer stays in the outbox.

What a failed push means (so that one bad reading never holds up the others, and an outage is just waited out):

- 400/413/422 for a batch: a reading in it is wrong. Halve until it stands alone; alone, it is rejected for good.
- 500 (any 5xx but a gateway's): the server failed, perhaps on one reading. Halve the same way; a reading that
  alone gets a 500 is retried with backoff, and counted against it only if the server answered something else
  properly in the same pass (otherwise it is an outage, not the reading). After ``PARK_AFTER`` such failures it
  is *parked*: tried every ``PARKED_RETRY`` or on a forced pass, sent alone, and shown as held back.
- 502/503/504, 408/425/429, network errors, and any answer with ``Retry-After``: plain backoff for the whole batch
  (no split, nobody blamed), waiting at least what ``Retry-After`` asks. The pass stops there.
- Many 500s in a row with no proper answer between them is an outage too: the split stops (bounded requests).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mobile_app.api.errors import ApiClientError, ApiError, AuthExpired, TransportError
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
    mark_server_failure,
    next_outbox_attempt_at,
    pending_outbox,
    photos_to_upload,
)
from mobile_app.sync.api_client import SyncApi
from mobile_app.sync.backoff import Backoff, parse_retry_after
from shared_billing.protocol import MAX_BATCH, Outcome, PushRequest, PushResult, protocol_for

__all__ = ["PARKED_RETRY", "PARK_AFTER", "ProgressCallback", "SyncEngine", "SyncReport", "photo_content_type"]

ProgressCallback = Callable[[int, int], None]

# A whole push refused with one of these says "this request is wrong": split it to find the readings at fault.
# Other 4xx (403, a wrong base URL's 404, 405 ...) blame the account or the setup, not the readings: retry.
_BATCH_REFUSALS = frozenset({400, 413, 422})
# Photo answers that refuse the bytes themselves; uploading them again cannot succeed.
_PHOTO_REFUSALS = frozenset({400, 413, 415, 422})
# A proxy or load balancer speaking for a server that is down or restarting: nothing to do with the readings.
_GATEWAY_ERRORS = frozenset({502, 503, 504})
# A reading the working server failed on this many times (alone) is parked and tried only every PARKED_RETRY.
PARK_AFTER = 3
PARKED_RETRY = timedelta(hours=4)
# A Retry-After is honoured up to this; a broken proxy asking for a year must not silence the phone.
_MAX_RETRY_AFTER_S = 6 * 3600.0
_IMAGE_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


@dataclass
class SyncReport:
    """What one pass did. ``error`` is why it stopped early (None: it ran to the end)."""

    pushed: int = 0  # readings sent in this pass
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0  # per-item rejections and readings refused by a whole-batch 4xx
    conflict: int = 0
    server_failed: int = 0  # readings the server failed on (500) when sent alone; kept for a later try
    parked: int = 0  # of those, how many are parked now
    photos: int = 0  # photos the server now holds (201 stored or 200 already had it)
    pulled: int = 0  # meter assignments received
    removed: int = 0  # meters no longer assigned
    decisions: int = 0  # review decisions received
    error: ApiClientError | None = None
    next_delay_s: float = 0.0  # when to run the next pass

    @property
    def needs_sign_in(self) -> bool:
        return isinstance(self.error, AuthExpired)


@dataclass
class _Suspect:
    """A reading that alone got a 500; judged at the end of the pass (was it the reading or the server?)."""

    item: OutboxItem
    error: str
    retry_at: datetime


@dataclass
class _PassState:
    """What one pass learned about the server."""

    healthy: bool = False  # the server answered some request properly in this pass
    server_errors_in_row: int = 0  # 500s since the last proper answer
    server_error_limit: int = 0  # more in a row than this: an outage
    suspects: list[_Suspect] = field(default_factory=list)


def _blames_the_server(error: ApiClientError) -> bool:
    """A 500-class answer that may be caused by a reading in the request (see the module docstring)."""
    return (
        isinstance(error, TransportError)
        and error.status is not None
        and error.status >= 500
        and error.status not in _GATEWAY_ERRORS
        and error.retry_after is None
    )


def _refuses_the_batch(error: ApiClientError) -> bool:
    return isinstance(error, ApiError) and error.status in _BATCH_REFUSALS and error.retry_after is None


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
        owner: Callable[[], int | None] = lambda: None,
    ) -> None:
        """``clock`` returns aware UTC "now"; ``on_progress(done, total)`` reports pushed readings; ``owner`` is the
        signed-in engineer's user id, asked at each pass: only their readings (and photos) are pushed, since the
        server files whatever arrives under the account of the tokens (None: every reading, as before owners)."""
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
        self._owner = owner
        self._pass_owner: int | None = None
        self._consecutive_failures = 0
        self._one_pass_at_a_time = threading.Lock()

    def run_once(self, *, ignore_retry_times: bool = False) -> SyncReport:
        """One pass; sync errors go into the report (never raised), anything else is a bug and propagates.

        ``ignore_retry_times`` pushes readings still waiting out their backoff too: a person asked ("sync now"),
        or the app has just started and the reason for the earlier failures may be gone.
        """
        with self._one_pass_at_a_time:
            report = SyncReport()
            state = _PassState()
            self._pass_owner = self._owner()  # one engineer for the whole pass, even if another signs in meanwhile
            try:
                self._push_outbox(report, ignore_retry_times, state)
                self._upload_photos(report, state)
                self._pull(report, state)
            except ApiClientError as error:
                report.error = error
            self._judge_suspects(state, report)
            report.next_delay_s = self._next_delay_s(report.error)
            return report

    def _retry_after_s(self, error: ApiClientError) -> float:
        asked = parse_retry_after(error.retry_after, now=self._clock())
        return min(asked, _MAX_RETRY_AFTER_S) if asked is not None else 0.0

    def _next_delay_s(self, error: ApiClientError | None) -> float:
        if isinstance(error, AuthExpired):
            # Retrying cannot help until the user signs in again; the app shows that and calls run_once.
            self._consecutive_failures = 0
            return self._idle_delay_s
        if error is not None:
            self._consecutive_failures += 1
            return max(self._backoff.delay_s(self._consecutive_failures), self._retry_after_s(error))
        self._consecutive_failures = 0
        now = self._clock()
        due_at = next_outbox_attempt_at(store=self._store, now=now, owner=self._pass_owner)
        if due_at is None:
            return self._idle_delay_s
        return min(self._idle_delay_s, max(0.0, (due_at - now).total_seconds()))

    def _progress(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            # Readings saved during the pass are pushed too, so done may pass the count taken at the start.
            self._on_progress(done, max(done, total))

    def _push_outbox(self, report: SyncReport, ignore_retry_times: bool, state: _PassState) -> None:
        started_at = self._clock()
        due_by = datetime.max.replace(tzinfo=UTC) if ignore_retry_times else started_at
        total = count_due_outbox(store=self._store, now=due_by, owner=self._pass_owner)
        done = 0
        after_seq = 0
        if total:
            self._progress(0, total)
        while True:
            # Paged by save order, so a reading kept for a retry (still due in a forced pass) is not sent twice.
            items = pending_outbox(
                store=self._store, limit=self._batch_size, now=due_by, after_seq=after_seq, owner=self._pass_owner
            )
            if not items:
                return
            after_seq = items[-1].seq
            report.pushed += len(items)
            # Readings the server already failed on go alone, so they cannot sink a batch of good ones again.
            fresh = [item for item in items if item.server_failures == 0]
            batches = [fresh] if fresh else []
            batches.extend([item] for item in items if item.server_failures > 0)
            for batch in batches:
                self._push_batch(batch, report, state)
            done += len(items)
            self._progress(done, total)

    def _push_batch(self, items: Sequence[OutboxItem], report: SyncReport, state: _PassState) -> None:
        # A lone poisonous reading at the front of the batch costs one 500 per halving, plus one for a neighbour.
        state.server_error_limit = len(items).bit_length() + 2
        try:
            self._push_or_split(items, report, state)
        except (TransportError, ApiError) as error:
            # Readings answered before the failure already left the outbox; mark_retry skips them. Suspects were
            # already given their retry time.
            held = {suspect.item.reading.uuid for suspect in state.suspects}
            waiting = [item for item in items if item.reading.uuid not in held]
            failures = max((item.attempts for item in waiting), default=0) + 1
            delay_s = max(self._backoff.delay_s(failures), self._retry_after_s(error))
            uuids = [str(item.reading.uuid) for item in waiting]
            retry_at = self._clock() + timedelta(seconds=delay_s)
            mark_retry(store=self._store, uuids=uuids, error=str(error), next_attempt_at=retry_at)
            raise

    def _push_or_split(self, items: Sequence[OutboxItem], report: SyncReport, state: _PassState) -> None:
        readings = [item.reading for item in items]
        # The lowest protocol that carries the batch: a batch without a replacement is exactly what v1 sent.
        request = PushRequest(
            protocol=protocol_for(readings), device_id=self._device_id, sent_at=self._clock(), readings=readings
        )
        try:
            response = self._api.push(request)
        except (TransportError, ApiError) as error:
            server_failed = _blames_the_server(error)
            if not server_failed and not _refuses_the_batch(error):
                raise  # plain backoff for the batch: nothing here says which reading, if any, is at fault
            if server_failed:
                state.server_errors_in_row += 1
                if state.server_errors_in_row > state.server_error_limit:
                    raise  # 500 after 500 and nothing answered properly: the server is down, not a reading
            else:
                state.healthy = True  # a refusal is a considered answer
                state.server_errors_in_row = 0
            if len(items) > 1:
                # One bad reading must not sink the rest: halve until the ones at fault stand alone.
                middle = len(items) // 2
                self._push_or_split(items[:middle], report, state)
                self._push_or_split(items[middle:], report, state)
                return
            if server_failed:
                self._hold_suspect(items[0], error, state)
                return
            if isinstance(error, ApiError):  # always, by _refuses_the_batch
                refused = PushResult(
                    uuid=items[0].reading.uuid, outcome=Outcome.REJECTED, code=error.code, message=error.message
                )
                self._record_results([refused], report)
            return
        state.healthy = True
        state.server_errors_in_row = 0
        sent = {item.reading.uuid for item in items}
        results = [result for result in response.results if result.uuid in sent]
        self._record_results(results, report)
        unanswered = sent - {result.uuid for result in results}
        if unanswered:
            raise TransportError(f"no answer for {len(unanswered)} of {len(sent)} readings in the push")

    def _hold_suspect(self, item: OutboxItem, error: ApiClientError, state: _PassState) -> None:
        """Keep a reading the server failed on for a later try; whether it is to blame is decided at the end."""
        delay = timedelta(seconds=self._backoff.delay_s(max(item.attempts, item.server_failures) + 1))
        retry_at = self._clock() + delay
        uuid = str(item.reading.uuid)
        mark_retry(store=self._store, uuids=[uuid], error=str(error), next_attempt_at=retry_at)
        state.suspects.append(_Suspect(item=item, error=str(error), retry_at=retry_at))

    def _judge_suspects(self, state: _PassState, report: SyncReport) -> None:
        """Count a 500 against each reading that alone got one, if the server was working otherwise this pass.

        Without a proper answer in the pass the 500s say nothing about the readings: they keep their plain retry.
        """
        if not state.healthy:
            return
        now = self._clock()
        for suspect in state.suspects:
            failures = mark_server_failure(
                store=self._store,
                uuid=str(suspect.item.reading.uuid),
                error=suspect.error,
                now=now,
                retry_at=suspect.retry_at,
                park_after=PARK_AFTER,
                parked_retry_at=now + PARKED_RETRY,
            )
            if failures is None:
                continue
            report.server_failed += 1
            if failures >= PARK_AFTER:
                report.parked += 1

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

    def _upload_photos(self, report: SyncReport, state: _PassState) -> None:
        for photo in photos_to_upload(store=self._store, owner=self._pass_owner):
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
                state.healthy = True  # a considered answer
                # 404 photo.not_referenced: the server has no reading naming it (yet); keep it and try again.
                mark_photo_failed(
                    store=self._store,
                    sha256=photo.sha256,
                    code=error.code,
                    message=error.message,
                    terminal=error.status in _PHOTO_REFUSALS,
                )
                continue
            state.healthy = True
            mark_photo_uploaded(store=self._store, sha256=photo.sha256, uploaded_at=self._clock())
            report.photos += 1

    def _pull(self, report: SyncReport, state: _PassState) -> None:
        pull = self._api.pull(cursor=get_pull_cursor(store=self._store))
        state.healthy = True
        apply_pull(store=self._store, pull=pull)
        report.pulled += len(pull.meters)
        report.removed += len(pull.removed_meter_ids)
        report.decisions += len(pull.decisions)
