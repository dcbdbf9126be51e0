"""Use cases: a desk check of one subject, proactive campaigns over a population."""
