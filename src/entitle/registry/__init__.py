"""The simulated federal registries: a synthetic city and a MAGDA-compatible SOAP server.

The product never imports this package: it talks to the simulator over HTTP, as it would to MAGDA.
"""
