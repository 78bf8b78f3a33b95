"""Tests kept out of `make test` until fixed (`pytest -m quarantine` runs exactly these): node id or
prefix -> what is known. An entry leaves this list with the fix that makes it pass. Empty is the
normal state."""

QUARANTINED: dict[str, str] = {}


def reason_for(nodeid: str) -> str | None:
    for prefix, reason in QUARANTINED.items():
        if nodeid == prefix or nodeid.startswith(prefix + "::") or nodeid.startswith(prefix + "["):
            return reason
    return None
