"""An operator's pause of outreach to an account, its resumption, and the end of a pause
that was given an ``until``.

A pause is recorded as an ``outreach_paused`` signal (source ``operator``, the reason as its
text, ``details.until`` when it ends by itself) and a resumption as ``outreach_resumed``:
both go through the signal use case, so they are idempotent by their id, kept on the
account's flags (``outreach_paused``) and timeline with who recorded them, announced on
``consumer.signals.v1`` through the outbox, and answered only once on Kafka. The scheduler
stops planning for a paused account, the gate blocks its steps (``operator.paused``) and the
channel workers hold what they were already given, until the resumption.

A pause with an ``until`` is ended by the ledger's periodic pass (``end_due``): its
resumption's id is the pause's id with ``.ended``, so two replicas ending it at once
record it once.
"""

from __future__ import annotations

from datetime import datetime

from dunning_core.contracts.events import SignalKind

from dunning_ledger.accounts.service import existing_account
from dunning_ledger.communications.schemas import SignalIn, SignalOut
from dunning_ledger.communications.service import CommunicationService
from dunning_ledger.domain.flags import PAUSE_SIGNALS, PAUSED_FLAG
from dunning_ledger.errors import Conflict, InvalidRequest
from dunning_ledger.ports import Clock, Transactions, UseCase

ENDED = ".ended"


def _until(raw: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class PauseService(UseCase):
    def __init__(
        self, transactions: Transactions, clock: Clock, signals: CommunicationService
    ) -> None:
        super().__init__(transactions, clock)
        self.signals = signals

    async def pause(
        self,
        account_id: str,
        pause_id: str,
        reason: str,
        until: datetime | None,
        recorded_by: str | None,
    ) -> SignalOut:
        now = self.clock.now()
        if until is not None and until <= now:
            raise InvalidRequest(f"until {until.isoformat()} is not in the future", "until")
        body = SignalIn(
            signal_id=pause_id,
            kind=SignalKind.OUTREACH_PAUSED,
            text=reason,
            details={"until": until.isoformat()} if until else {},
        )
        return await self.signals.record_signal(account_id, body, recorded_by, PAUSE_SIGNALS)

    async def resume(
        self, account_id: str, resume_id: str, reason: str | None, recorded_by: str | None
    ) -> SignalOut:
        """Refused (409) when outreach is not paused, unless this is a replay of the very
        resumption that ended the pause (a double click answers as the first)."""
        async with self.transactions() as tx:
            await existing_account(tx, account_id)  # an unknown one is a 404, not a 409
            flags = await tx.communications.flags_of(account_id)
            await tx.commit()
        flag = next((f for f in flags if f.flag == PAUSED_FLAG), None)
        if flag is None or (not flag.active and flag.signal_id != resume_id):
            raise Conflict(f"outreach to account {account_id!r} is not paused")
        body = SignalIn(signal_id=resume_id, kind=SignalKind.OUTREACH_RESUMED, text=reason)
        return await self.signals.record_signal(account_id, body, recorded_by, PAUSE_SIGNALS)

    async def end_due(self, now: datetime) -> int:
        """Resume every pause whose ``until`` has come; returns how many were ended."""
        async with self.transactions() as tx:
            pauses = await tx.communications.active_pauses()
            await tx.commit()
        ended = 0
        for account_id, signal_id, raw in pauses:
            until = _until(raw)
            if until is None or until > now:
                continue
            body = SignalIn(
                signal_id=(signal_id + ENDED)[-128:],
                kind=SignalKind.OUTREACH_RESUMED,
                text=f"the pause ended at {until.isoformat()}",
            )
            await self.signals.record_signal(account_id, body, None, PAUSE_SIGNALS)
            ended += 1
        return ended
