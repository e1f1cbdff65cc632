"""The exit codes of every `revops` command, in one table (docs/sync.md; docs/operations.md explains each).

A scheduler can act on them: 0 means everything asked for was done and confirmed; 3, 5 and 6 mean the command did
its work but something needs a look (the next run retries what is left); 2 means the command line is wrong and
retrying cannot help; 4 means try again once the other process is done; 1 is any other failure."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # done: every file landed, every record confirmed, every contract passed
    FAILED = 1  # any other failure (a failed build or contract, the CRM refused the token, ...)
    USAGE = 2  # wrong usage: unknown command, option or value, or a file or folder it names is missing
    FILES_REFUSED = 3  # land: everything else landed, but some files could not be read or were refused
    WAREHOUSE_IN_USE = 4  # another process is writing the DuckDB file
    DEAD_LETTERED = 5  # sync: the run finished, but some records were dead-lettered (retried on the next run)
    SYNC_ABORTED = 6  # sync: a guard stopped the run (the plan changes too large a share, or the error rate)
    INTERRUPTED = 130  # Ctrl-C (the shell's convention: 128 + SIGINT)


# what each code means, in the words `revops --help` and the docs use
MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "done; every record confirmed",
    ExitCode.FAILED: "failed (any failure not listed here)",
    ExitCode.USAGE: "wrong usage: unknown command, option or value, or a missing file or folder",
    ExitCode.FILES_REFUSED: "land: some files could not be read or were refused; everything else landed",
    ExitCode.WAREHOUSE_IN_USE: "another process is writing the warehouse file",
    ExitCode.DEAD_LETTERED: "sync: finished, but some records were dead-lettered (retried on the next run)",
    ExitCode.SYNC_ABORTED: "sync: aborted by a guard (too large a share of records would change, or the error "
                           "rate passed its threshold)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}

# the sync engine's run status (reverse_etl.engine.RunResult.status) -> exit code
SYNC_STATUS: dict[str, ExitCode] = {
    "planned": ExitCode.OK,  # --dry-run
    "succeeded": ExitCode.OK,
    "completed_with_dead_letters": ExitCode.DEAD_LETTERED,
    "aborted": ExitCode.SYNC_ABORTED,  # the plan changes more than max_change_share of the confirmed records
    "stopped": ExitCode.SYNC_ABORTED,  # the circuit breaker: the error rate passed breaker_error_rate
    "failed": ExitCode.FAILED,  # e.g. the custom properties could not be created
}


class CliError(Exception):
    """An expected failure: `revops` prints `error: <message>` as one line on stderr and exits with `code`.
    The message says what failed, where, and what to do."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED):
        super().__init__(message)
        self.code = code


def table() -> str:
    """The table as text (for `revops --help` epilogs and the docs' consistency test)."""
    return "\n".join(f"{int(c):>3}  {MEANING[c]}" for c in ExitCode)
