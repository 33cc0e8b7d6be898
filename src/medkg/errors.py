"""One exception root for medkg; the CLI and the web render these in one place each."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class MedkgError(Exception):
    """Root of every error medkg raises on purpose. ``status`` is the HTTP status to use."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RecordError(MedkgError):
    """A record file cannot be read or does not fit its model."""

    def __init__(self, file: Path | str, message: str, *, field: str | None = None,
                 line: int | None = None, record: str | None = None):
        self.file, self.field, self.line, self.record = str(file), field, line, record
        where = self.file + (f":{line}" if line else "")
        parts = [where]
        if record:
            parts.append(f"record {record}")
        if field:
            parts.append(f"field {field}")
        super().__init__(": ".join(parts) + f": {message}")


class UnknownReference(RecordError):
    """A record refers to an id that does not exist (with a did-you-mean)."""

    def __init__(self, file: Path | str, *, record: str, field: str, kind: str, value: str,
                 known: Iterable[str]):
        suggestion = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
        hint = f" (did you mean '{suggestion[0]}'?)" if suggestion else ""
        self.kind, self.value = kind, value
        super().__init__(file, f"unknown {kind} '{value}'{hint}", field=field, record=record)


class ShapeViolation(MedkgError):
    """The graph does not conform to the SHACL shapes."""

    def __init__(self, violations: list):
        self.violations = violations
        super().__init__(f"{len(violations)} SHACL violation(s)")


class StoreNotBuilt(MedkgError):
    status = 503

    def __init__(self, path: Path | str):
        super().__init__(f"no built store at {path}: run `medkg build` first")


class QueryNotFound(MedkgError):
    status = 404


class BadParameter(MedkgError):
    """A named query's parameter value is missing or of the wrong type."""


class QueryError(MedkgError):
    """A SPARQL query that cannot be parsed or evaluated."""


class NotAcceptable(MedkgError):
    status = 406


class QueryTimeout(MedkgError):
    status = 503


# --- HTTP endpoint errors (SPARQL protocol); the web renders every MedkgError by .status ---


class BadFormat(MedkgError):
    """An unknown ``?format=`` value."""


class FormatNotAcceptable(NotAcceptable):
    """No format fits the request's Accept / ``?format=``; ``acceptable`` lists media types."""

    def __init__(self, message: str, acceptable: list[str] | None = None):
        super().__init__(message)
        self.acceptable = list(acceptable or [])


class BadRequest(MedkgError):
    """A malformed protocol request: no query, two queries, bad encoding, bad graph IRI."""


class QuerySyntaxError(QueryError):
    """The query does not parse; ``line``/``column`` locate the error when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line, self.column = line, column


class UpdateRefused(MedkgError):
    """SPARQL Update sent to the read-only endpoint."""

    status = 403


class ServiceRefused(MedkgError):
    """A SERVICE call to an endpoint not allowed by the configuration."""

    status = 403


class UnsupportedMediaType(MedkgError):
    status = 415


class RequestTooLarge(MedkgError):
    status = 413


class ResultTooLarge(MedkgError):
    """A result whose serialization exceeds the configured byte limit (add a LIMIT)."""

    status = 422


class EndpointUnavailable(MedkgError):
    """The query executor could not be started (store missing or unreadable)."""

    status = 503


class EngineError(EndpointUnavailable):
    """The external SPARQL engine (``--store URL``) is unreachable, refused or failed."""

    status = 502


class EngineTimeout(QueryTimeout):
    """The external SPARQL engine did not answer within the time limit."""

    status = 504
