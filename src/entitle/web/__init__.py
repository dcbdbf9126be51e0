"""The web layer: desk UI (Jinja2, progressive enhancement), auditor pages and the REST API.

`entitle.web.app.create_app(settings)` builds the application; `entitle.cli.web.serve` runs
it (``entitle serve``).
"""
