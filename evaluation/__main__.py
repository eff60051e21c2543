"""``python -m evaluation --from M1 --to M2``: the evaluate command without the full CLI."""

from evaluation.cli import app
from propensity.logs import setup_logging

setup_logging()
app(prog_name="python -m evaluation")
