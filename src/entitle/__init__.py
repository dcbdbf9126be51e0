"""Entitle: proactive social benefits decided from base registries, as rules-as-code."""

__version__ = "0.1.0"
