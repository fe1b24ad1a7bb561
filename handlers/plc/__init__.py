"""PLC teams: cadence, check-ins, data-review logs, history (described in `feature.py`)."""
