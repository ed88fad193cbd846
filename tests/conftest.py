"""Shared test set-up."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # no windows, and the same pixels everywhere

# Notebooks that only serve the browser tests are not labs: nbval must not run them (one fails
# on purpose).
collect_ignore_glob = ["browser/fixtures/*"]
