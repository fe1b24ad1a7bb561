"""Classroom observations: `/observe`, its form, notices and reminders (described in `feature.py`)."""
