"""Every read the dashboard makes, aggregated in SQL (one module per subject).

Functions take a SQLAlchemy connection and plain values and return small lists
of named tuples or dataclasses: the size of a result depends on the number of
time buckets or versions shown, never on the number of rows in a table.
"""
