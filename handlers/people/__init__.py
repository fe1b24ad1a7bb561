"""A person's own availability: `/away` and `/settings` (described in `feature.py`)."""
