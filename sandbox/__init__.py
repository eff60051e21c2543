"""The sandbox market: a deterministic synthetic SMB market, its truth, and its web.

Public API: :func:`generate_market` writes raw/ and truth/ tables into a lake;
:mod:`sandbox.web` serves the market's web on loopback; :func:`oracle_figures` measures the
ceiling any model can reach.
"""

from sandbox.market import MarketSummary, generate_market
from sandbox.oracle import oracle_figures, purchase_labels

__all__ = ["MarketSummary", "generate_market", "oracle_figures", "purchase_labels"]
