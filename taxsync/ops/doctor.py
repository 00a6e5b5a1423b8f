"""``taxsync doctor``: is this workspace ready to run unattended, and is its history complete?

Doctor runs an explicit list of sections, ``SECTIONS``, in order. Each section's check is a function of a
``DoctorContext`` returning ``Finding``s (``taxsync.ops.findings``), each with its health (ok, warning, error),
the thing it is about, one sentence on what was found and one sentence of advice. A new section is a check
function in ``taxsync.ops.doctor_checks`` and one line in ``SECTIONS``::

    def check_key_age(ctx: DoctorContext) -> Iterable[Finding]:
        yield Finding(Health.WARNING, "binance-main", "the key is 400 days old", "rotate it")

A check that fails unexpectedly becomes one error finding of its section; the other sections still run. The
sections here: environment, keyring, database, file permissions, keys (read-only status, asked of each
exchange), coverage (streams or markets never fetched, history an exchange's API no longer returns) and the
balance audit (each exchange asked for its balances now, unless offline).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from taxsync.errors import UsageError
from taxsync.ops.doctor_checks import (
    check_balances,
    check_coverage,
    check_database,
    check_environment,
    check_key_hygiene,
    check_keyring,
    check_keys,
    check_permissions,
    check_schedule,
)
from taxsync.ops.findings import DoctorContext, Finding, Health, Section

SECTIONS: tuple[Section, ...] = (  # (name, title, check, needs a workspace), run in this order
    Section("environment", "Environment", check_environment, False),
    Section("keyring", "Keyring", check_keyring, True),
    Section("database", "Database", check_database, False),
    Section("permissions", "File permissions", check_permissions, True),
    Section("schedule", "Nightly schedule", check_schedule, True),
    Section("keys", "API keys (read-only)", check_keys, True),
    Section("key-audit", "API key hygiene", check_key_hygiene, True),
    Section("coverage", "Coverage", check_coverage, True),
    Section("balances", "Balance audit", check_balances, True),
)


@dataclass(frozen=True, slots=True)
class SectionResult:
    name: str
    title: str
    findings: tuple[Finding, ...]


def run_doctor(ctx: DoctorContext, only: Iterable[str] = (), sections: Sequence[Section] | None = None
               ) -> list[SectionResult]:
    """Run the sections (the ``only`` ones, if named; all of ``SECTIONS`` by default), in order; a check that
    fails is an error finding."""
    sections = SECTIONS if sections is None else sections
    wanted = list(only)
    names = [section.name for section in sections]
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise UsageError(f"unknown doctor section(s) {', '.join(unknown)}: choose from {', '.join(names)}")
    results = []
    for section in sections:
        if wanted and section.name not in wanted:
            continue
        if section.needs_workspace and ctx.ws is None:
            findings: tuple[Finding, ...] = (Finding(Health.ERROR, "workspace", f"not checked: {ctx.open_error}",
                                                     "fix the workspace first (see the database section)"),)
        else:
            try:
                findings = tuple(section.check(ctx))
            except Exception as error:
                findings = (Finding(Health.ERROR, section.name, f"the check itself failed: "
                                    f"{type(error).__name__}: {error}", "report this as a bug of taxsync"),)
        results.append(SectionResult(section.name, section.title, findings))
    return results


def worst(results: Iterable[SectionResult]) -> Health:
    verdicts = {f.verdict for r in results for f in r.findings}
    if Health.ERROR in verdicts:
        return Health.ERROR
    return Health.WARNING if Health.WARNING in verdicts else Health.OK


__all__ = ["SECTIONS", "DoctorContext", "Finding", "Health", "Section", "SectionResult", "run_doctor", "worst"]
