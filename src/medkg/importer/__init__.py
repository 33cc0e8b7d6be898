"""Importers: external sources -> draft records in data/ (never RDF or the store).

``report`` collects what an import did and what it could not read; ``writer`` merges records
into data/ idempotently, keeping hand-curated fields. ``awesome`` reads the
Awesome-Medical-Dataset list; ``markdown`` and ``normalize`` are its parsers.
"""

from .report import Defect, ImportReport
from .writer import write_records

__all__ = ["Defect", "ImportReport", "write_records"]
