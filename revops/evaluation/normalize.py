"""The identifier normalization of docs/identity.md, mirrored from the dbt macro `normalize_email` for code that reads
the sandbox truth (evaluation, benchmarks). A test checks both agree on every email of the S world."""

from __future__ import annotations

import re

# the same pattern as the macro: one @, no whitespace, a local part not starting with '+', a dotted domain
EMAIL = re.compile(r"[^@\s+][^@\s]*@[^@\s]+\.[^@\s]+")
GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def normalize_email(raw: str | None) -> str | None:
    """trim, lowercase, `+tag` removed; for gmail.com / googlemail.com dots removed and the domain gmail.com.
    None for anything that is not local@domain."""
    if raw is None:
        return None
    e = raw.strip().lower()
    if not EMAIL.fullmatch(e):
        return None
    local, domain = e.split("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"
