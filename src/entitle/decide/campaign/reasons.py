"""A campaign's words for missing facts: the pending outcome, and a subject not in the register.

A fact is missing either because the **citizen's** data is not at the source (MSG00021 not
integrated, no tax assessment yet, no data found, not in the register extract): the household
may bring it to the desk, so an undetermined decision invites it. Or because of **our** failure
(transport, an HTTP status, a malformed reply, configuration, authorisation, an open circuit
breaker, a local dataset that did not answer): the household has nothing to bring. Such a
household is stored *pending*: no letter of any kind, counted and named in the run's summary,
and decided by the next run. The reasons themselves are `entitle.decide.reasons.MissingReason`,
stored as small JSON objects, never as free text.
"""

from __future__ import annotations

PENDING = "pending"  # the outcome of a subject whose missing facts include one of ours
NOT_IN_REGISTER_CODE = "NOT_IN_REGISTER"  # a target subject missing from the register extract
