"""The auditors' read side of the event log: search, order life, CSV export and verification."""
