"""Shared test set-up."""

import os

from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")  # no windows, and the same pixels everywhere
os.environ["HF_HUB_OFFLINE"] = "1"  # models are built from configs: nothing downloaded

# Property tests in CI draw the same examples on every run (derandomize: a fixed seed per test)
# and neither read nor write a local example database, so a commit's result does not depend on
# the machine or on earlier runs. Elsewhere hypothesis explores new examples and remembers
# failures in .hypothesis/. A failure found that way is pinned with @example in the test.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Notebooks that only serve the browser tests are not labs: nbval must not run them (one fails
# on purpose).
collect_ignore_glob = ["browser/fixtures/*"]
