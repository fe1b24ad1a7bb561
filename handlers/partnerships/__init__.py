"""Student-teaching partnerships: members, meetings, action plan, agenda (described in `feature.py`)."""
