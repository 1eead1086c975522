"""A realistic history of the whole loop, written through the table contract of
`shared.database`: traffic with rollups, drift checks with full reports, training
jobs, registry versions and alias moves, ingested batches.

It lets the browser test, the benchmark and the screenshots show the dashboard on
the same data the services write, at any scale (`HistorySpec`), without running them.
"""

from dashboards.sample_history.seed import HistorySpec, HistorySummary, seed_history

__all__ = ["HistorySpec", "HistorySummary", "seed_history"]
