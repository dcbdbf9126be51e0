"""The accounts' roles, in a module of their own so that the command line names them in its help
without loading the database layer."""

from __future__ import annotations

# coupon_verifier: a shop or the waste company, verifying and redeeming coupons only
ROLES = ("desk_officer", "campaign_manager", "administrator", "auditor", "coupon_verifier")
