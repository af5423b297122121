"""`maildesk report`: what a lead reads about the desk for a period, aggregated in the database.

`build` asks the store's aggregates and folds them into a `model.Report`; `text`, `tables` (JSON and
CSV) and `html` print it.
"""

from __future__ import annotations

from maildesk.admin.report.build import build_report, period
from maildesk.admin.report.model import Report
from maildesk.admin.report.text import format_text

__all__ = ["Report", "build_report", "format_text", "period"]
