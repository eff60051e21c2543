"""Training: lookalike fit and intent models per product, tracked in MLflow."""

import os

# LightGBM's OpenMP threads spin while they wait by default. On a machine shared with other
# busy processes (the norm here: crawl, features, scoring, tests) that spinning made one
# intent fit take 179 s instead of 5.9 s; passive waiting costs little when the machine is
# idle. It must be set before the OpenMP runtime loads (lightgbm is imported lazily).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
