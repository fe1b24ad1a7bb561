"""`growthbot schedule upcoming`: what the scheduler would send (described in `feature.py`)."""
