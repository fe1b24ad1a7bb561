"""Surveys: exit slips, needs assessments and pulses, in named, confidential or anonymous mode."""
