"""Leader election on a Lease: the I/O around the pure rules of :mod:`~.lease`.

Only the leader runs kopf (and so watches, reconciles, calls EKS and holds the per-cluster
gate); standbys only try to take the lease. Everything the operator keeps in memory (the gate,
poll schedules, the issuer cache) is therefore one process's, as with a single replica.

The elector blocks in :meth:`LeaseElector.acquire` until this process leads, then renews from a
daemon thread. When a renewal has not succeeded for the renew deadline, or the lease shows
another holder, ``on_lost`` runs: the CLI ends the process at once, the way controller-runtime
does, so a leader never acts after another could have taken over. On a clean stop the leader
releases the lease, so a standby takes over at its next try.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from eks_oidc_operator.election.lease import (
    LeaseRecord,
    LeaseTimings,
    Seen,
    lost,
    may_take,
    observe,
    released,
    taken,
)
from eks_oidc_operator.election.leases import (
    Lease,
    LeaseApi,
    LeaseApiError,
    connect,
    format_time,
    parse_time,
)

log = logging.getLogger(__name__)


def api() -> LeaseApi:
    """The Lease API, with the in-cluster credentials or those of ``KUBECONFIG``."""
    return connect()


def _attempt(what: str, write: Callable[[], object]) -> bool:
    """Make one write of the lease; ``False`` if it failed. A 409 means another candidate wrote
    first (the resourceVersion moved, or it created the Lease): not ours this time."""
    try:
        write()
    except LeaseApiError as error:
        if error.status != 409:
            log.warning("leader election: %s the lease failed: %s", what, error.reason)
        return False
    except Exception as error:
        log.warning("leader election: %s the lease failed: %s", what, error)
        return False
    return True


def _record(lease: Lease) -> LeaseRecord:
    """The Lease's spec, as the rules of :mod:`~.lease` read it."""
    spec: dict[str, Any] = lease.get("spec") or {}
    return LeaseRecord(
        holder=spec.get("holderIdentity") or None,
        duration_seconds=spec.get("leaseDurationSeconds"),
        acquire_time=parse_time(spec.get("acquireTime")),
        renew_time=parse_time(spec.get("renewTime")),
        transitions=spec.get("leaseTransitions") or 0,
        resource_version=(lease.get("metadata") or {}).get("resourceVersion"),
    )


class LeaseElector:
    """Takes, renews and releases one Lease for one candidate identity."""

    def __init__(
        self,
        leases: LeaseApi,
        namespace: str,
        name: str,
        identity: str,
        timings: LeaseTimings,
        on_change: Callable[[bool], None] = lambda leading: None,
    ) -> None:
        self._leases, self._namespace, self._name = leases, namespace, name
        self.identity, self.timings = identity, timings
        self._on_change = on_change
        self._seen: Seen | None = None
        self._stop = threading.Event()
        self._last_renewal = 0.0
        self._renewal: threading.Thread | None = None
        self._on_lost: Callable[[], None] = lambda: None
        self._fired = threading.Lock()
        # Every Lease call is bounded: a call hanging on a dead connection must not outlive
        # the renew deadline (the watchdog ends the leader by the clock in any case).
        self._timeout = timings.retry_period

    def acquire(self) -> None:
        """Block until this candidate holds the lease (or :meth:`stop` is called)."""
        log.info(
            "leader election: %s waits for lease %s/%s", self.identity, self._namespace, self._name
        )
        while not self._stop.is_set():
            if self._try():
                self._last_renewal = time.monotonic()
                log.info("leader election: %s leads", self.identity)
                self._on_change(True)
                return
            self._stop.wait(self.timings.retry_period)

    def keep(self, on_lost: Callable[[], None]) -> threading.Thread:
        """Renew from a daemon thread; call ``on_lost`` (once) when the lease is lost.

        A watchdog thread apart from the renewals decides "lost" by the clock alone, so a
        renewal stuck in I/O (each call is bounded too) or a renewal thread that died still
        ends the leader within the renew deadline, before any standby may take over.
        """
        self._on_lost = on_lost
        threading.Thread(target=self._watchdog, name="lease-watchdog", daemon=True).start()
        thread = threading.Thread(target=self._renew, name="lease-renewal", daemon=True)
        thread.start()
        self._renewal = thread
        return thread

    def _renew(self) -> None:
        try:
            while not self._stop.wait(self.timings.retry_period):
                if self._try():
                    self._last_renewal = time.monotonic()
                    continue
                holder = self._seen.record.holder if self._seen is not None else None
                if holder not in (None, self.identity):
                    self._lose(holder)
                    return
        except Exception:
            log.exception("leader election: the renewal failed")
            self._lose(None)

    def _watchdog(self) -> None:
        step = min(self.timings.retry_period, 0.5)
        while not self._stop.wait(step):
            if lost(self._last_renewal, time.monotonic(), self.timings):
                self._lose(None)
                return

    def _lose(self, holder: str | None) -> None:
        """Stop leading: once, whichever thread finds out first."""
        if not self._fired.acquire(blocking=False):
            return
        log.error(
            "leader election: %s lost lease %s/%s (holder now %s); stopping",
            self.identity,
            self._namespace,
            self._name,
            holder,
        )
        self._on_change(False)
        self._on_lost()

    def release(self) -> None:
        """Stop renewing and, if this candidate holds the lease, give it up."""
        self._stop.set()
        if self._renewal is not None:
            # A renewal in flight could otherwise write the lease back after the release.
            self._renewal.join(timeout=self.timings.retry_period * 2)
        try:
            lease = self._leases.read(self._namespace, self._name, timeout=self._timeout)
            if lease is None:  # deleted under a leader: worth the warning any failure gets
                raise LeaseApiError(404, "Not Found")
            record = _record(lease)
            if record.holder == self.identity:
                self._write(lease, released(record))
                log.info("leader election: %s released the lease", self.identity)
        except LeaseApiError as error:
            log.warning("leader election: could not release the lease: %s", error.reason)
        self._on_change(False)

    def _try(self) -> bool:
        """One attempt to take or renew the lease; ``False`` when another holds it, or on any
        API error (the next attempt comes after the retry period)."""
        now = time.monotonic()
        read, lease = self._read()
        if not read:
            return False
        if lease is None:
            record = taken(None, self.identity, datetime.now(UTC), self.timings)
            body: Lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self._name, "namespace": self._namespace},
                "spec": self._spec(record),
            }
            return _attempt(
                "creating",
                lambda: self._leases.create(self._namespace, body, timeout=self._timeout),
            )
        self._seen = observe(self._seen, _record(lease), now)
        if not may_take(self._seen, self.identity, now, self.timings):
            return False
        record = taken(self._seen.record, self.identity, datetime.now(UTC), self.timings)
        return _attempt("writing", lambda: self._write(lease, record))

    def _read(self) -> tuple[bool, Lease | None]:
        """Whether reading succeeded, and the Lease (``None``: there is none yet)."""
        try:
            return True, self._leases.read(self._namespace, self._name, timeout=self._timeout)
        except LeaseApiError as error:
            log.warning("leader election: reading the lease failed: %s", error.reason)
        except Exception as error:
            log.warning("leader election: reading the lease failed: %s", error)
        return False, None

    def _write(self, lease: Lease, record: LeaseRecord) -> None:
        # The rest (metadata.resourceVersion above all) stays as read: the API server refuses
        # the write (409) if anyone wrote in between, so two candidates can never both believe
        # they took it.
        self._leases.replace(
            self._namespace,
            self._name,
            {**lease, "spec": self._spec(record)},
            timeout=self._timeout,
        )

    @staticmethod
    def _spec(record: LeaseRecord) -> dict[str, Any]:
        """The Lease's spec for ``record``; what is unset is left out, as the API writes it."""
        spec = {
            "holderIdentity": record.holder,
            "leaseDurationSeconds": record.duration_seconds,
            "acquireTime": format_time(record.acquire_time) if record.acquire_time else None,
            "renewTime": format_time(record.renew_time) if record.renew_time else None,
            "leaseTransitions": record.transitions,
        }
        return {key: value for key, value in spec.items() if value is not None}
