"""A deterministic sample portfolio in the ledger's import format (pure).

Accounts spread over US time zones (Hawaii to New York), with some phone area codes that
disagree with the address, Spanish-speaking consumers, medical and time-barred debts,
and a few destinations that make the provider sandbox fail in each documented way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Place:
    state: str
    zip: str
    area_code: str


PLACES = (
    Place("NY", "10001", "212"),
    Place("FL", "33101", "305"),
    Place("TX", "75201", "214"),
    Place("IL", "60601", "312"),
    Place("CO", "80202", "303"),
    Place("AZ", "85001", "602"),
    Place("CA", "94105", "415"),
    Place("WA", "98101", "206"),
    Place("MA", "02108", "617"),
    Place("HI", "96813", "808"),
    Place("AK", "99501", "907"),
    Place("GA", "30303", "404"),
)
FIRST = ("Ana", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hector", "Ines", "Jamal")
LAST = ("Garcia", "Smith", "Nguyen", "Johnson", "Lopez", "Brown", "Kim", "Davis", "Patel")
CREDITORS = ("Acme Bank", "Northwind Utilities", "Contoso Medical Group", "Fabrikam Card")
# Sandbox outcomes by the last four digits (see the provider sandbox's twilio_rules).
SMS_FAILURES = ("0003", "0005", "0004", "0001")


def sample_rows(count: int, seed: int = 7, today: date = date(2026, 3, 2)) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for n in range(1, count + 1):
        place = PLACES[n % len(PLACES)]
        # One account in nine has a phone from another zone than its address.
        area = PLACES[(n + 5) % len(PLACES)].area_code if n % 9 == 0 else place.area_code
        line = f"{rng.randrange(2000, 9999):04d}"
        if n % 50 == 0:
            line = SMS_FAILURES[(n // 50) % len(SMS_FAILURES)]
        creditor = CREDITORS[n % len(CREDITORS)]
        medical = creditor == "Contoso Medical Group"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}.{n}".lower()
        if n % 40 == 0:
            local = f"bounce.{n}"
        delinquent = today - timedelta(days=rng.randrange(20, 120))
        time_barred = n % 17 == 0
        rows.append(
            {
                "account_id": f"ACC-{n:06d}",
                "full_name": f"{first} {last}",
                "state": place.state,
                "zip": place.zip,
                "phone": f"+1{area}555{line}",
                "phone_kind": "mobile",
                "phone_consent": "creditor_provided",
                "phone_basis": "consumer_used",
                "phone_reassigned_checked_on": (
                    today - timedelta(days=rng.randrange(1, 30))
                ).isoformat(),
                "email": f"{local}@example.com",
                "email_basis": "consumer_used",
                "email_workplace": "false",
                "locale": "es_US" if n % 6 == 0 else "en_US",
                "creditor": creditor,
                "debt_id": f"DEBT-{n:06d}",
                "balance": f"{rng.randrange(5_000, 500_000) / 100:.2f}",
                "currency": "USD",
                "due_date": (delinquent - timedelta(days=30)).isoformat(),
                "delinquent_since": delinquent.isoformat(),
                "medical": str(medical).lower(),
                "legal_action_authorized": str(n % 5 == 0).lower(),
                "limitation_date": (today - timedelta(days=30)).isoformat()
                if time_barred
                else (today + timedelta(days=900)).isoformat(),
                # The validation notice went by letter before any electronic contact.
                "validation_notice_sent_at": (
                    today - timedelta(days=rng.randrange(6, 25))
                ).isoformat(),
                "ca_license_number": "CFL-2024-001234" if place.state == "CA" else "",
            }
        )
    return rows
