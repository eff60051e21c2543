"""serving stage: the BentoML service partners pull their scored reports from.

Public API:

- :func:`serving.keys.add_key` / :func:`serving.keys.revoke` / :func:`serving.keys.list_keys`:
  partner and admin API keys (hashed in ``<lake>/serving/keys.sqlite``);
- :func:`serving.run.serve` serves in the foreground; :func:`serving.run.launch` starts
  ``bentoml serve`` as a child process and waits until it is ready (tests, demo);
- :data:`serving.cli.partners_app` and :func:`serving.cli.serve`, mounted by the
  ``propensity`` CLI as ``propensity partners`` and ``propensity serve``.

The service itself is ``serving.service:Propensity``; importing this package does not
import BentoML.
"""

from serving.keys import add_key, list_keys, revoke

__all__ = ["add_key", "list_keys", "revoke"]
