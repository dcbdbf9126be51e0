"""``entitle serve``: the desk UI and the REST API.

``python -m entitle.cli.web serve …`` runs the same command without the rest of the command
line (the demo, tests and benchmark start it so). Options set the environment that
`Settings.from_env()` reads, so several worker processes (``--workers``) share one configuration
and one database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entitle.cli.options import LocalOption, RegistryOption

__all__ = ["serve", "web_app"]

web_app = typer.Typer(help="The desk UI and REST API.", no_args_is_help=True)


@web_app.callback()
def _web() -> None:
    """The desk UI and REST API."""


@web_app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1)] = 1,
    benefits: Annotated[
        Path | None,
        typer.Option("--benefits", help="Folder of benefit files \\[env ENTITLE_BENEFITS]."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="SQLAlchemy URL \\[env ENTITLE_DATABASE_URL]."),
    ] = None,
    registry: RegistryOption = None,
    local: LocalOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="State folder: pseudonym key, access log."),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Certificate (PEM): serve HTTPS.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="Key (PEM).")] = None,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="Trust X-Forwarded-Proto from the reverse proxy (Secure cookies behind TLS).",
        ),
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning")] = "info",
    municipality: Annotated[
        str | None,
        typer.Option("--municipality", help="ghent or vlasbeke \\[env ENTITLE_MUNICIPALITY]."),
    ] = None,
    app_factory: Annotated[
        str,
        typer.Option(
            "--app-factory",
            hidden=True,
            help="module:function building the application (the demo wires its ground truth).",
        ),
    ] = "entitle.web.asgi:app_from_env",
) -> None:
    """Serve the desk UI and the REST API (/api/v1, OpenAPI at /api/v1/openapi.json)."""
    import uvicorn

    from entitle.municipality import configured_municipality
    from entitle.rules.folder import BenefitFolderError, load_benefits
    from entitle.settings import export
    from entitle.web.settings import Settings

    export(
        {
            "ENTITLE_MUNICIPALITY": municipality,
            "ENTITLE_BENEFITS": benefits,
            "ENTITLE_DATABASE_URL": database_url,
            "ENTITLE_MAGDA_BASE_URL": registry,
            "ENTITLE_LOCAL": local,
            "ENTITLE_DATA_DIR": data_dir,
        }
    )
    if (tls_cert is None) != (tls_key is None):
        typer.echo("--tls-cert and --tls-key go together", err=True)
        raise typer.Exit(2)
    try:
        chosen = configured_municipality()  # its folders unless ENTITLE_BENEFITS/CAMPAIGNS say
        if chosen is not None:
            export(
                {"ENTITLE_BENEFITS": chosen.benefits, "ENTITLE_CAMPAIGNS": chosen.campaigns},
                keep_set=True,
            )
        settings = Settings.from_env()
        load_benefits(settings.benefits)
    except (ValueError, BenefitFolderError) as exc:  # MunicipalityError is a ValueError
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    from entitle.decide.wiring import signing_warning

    warning = signing_warning()
    if warning:
        typer.echo(warning, err=True)
    uvicorn.run(
        app_factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,  # paths are harmless, but keep one log: the audit log
        proxy_headers=proxy_headers,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )


if __name__ == "__main__":
    web_app()
