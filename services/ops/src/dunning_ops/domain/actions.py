"""What a signed-in user may do on an account, by the role of their key.

The table is the platform's own (``dunning_core.contracts.access.PERMISSIONS``): the page
shows a form only to a role that holds its permission, the dashboard refuses the POST of any
other (403), and the ledger, which is sent the user's own key, checks it a third time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from dunning_core.contracts.access import Permission, Role, allows


class Action(StrEnum):
    PAYMENT = "payment"
    PLAN = "plan"
    DISPUTE = "dispute"
    NOTE = "note"
    PAUSE = "pause"
    RESUME = "resume"


NEEDS: Final[dict[Action, Permission]] = {
    Action.PAYMENT: Permission.RECORD_PAYMENTS,
    Action.PLAN: Permission.AGREE_PLANS,
    Action.DISPUTE: Permission.RECORD_SIGNALS,
    Action.NOTE: Permission.RECORD_NOTES,
    # Stopping outreach changes how the account is worked: the ledger's pause and resume
    # routes ask for accounts.change (operator and admin), as an account change does.
    Action.PAUSE: Permission.CHANGE_ACCOUNTS,
    Action.RESUME: Permission.CHANGE_ACCOUNTS,
}


def may(role: Role, action: Action) -> bool:
    return allows(role, NEEDS[action])


def allowed(role: Role) -> tuple[Action, ...]:
    return tuple(a for a in Action if may(role, a))


def may_replay(role: Role) -> bool:
    """Replaying a dead letter re-feeds a consumer: an admin's call only."""
    return role is Role.ADMIN
