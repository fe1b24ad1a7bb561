"""The S.M.A.R.T. goal coach: `/goal`, its dialog and the goals export (described in `feature.py`)."""
