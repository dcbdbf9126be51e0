"""`entitle db upgrade`, `entitle users …` and the auditor commands, through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from entitle.cli.store import audit_app, db_app, users_app
from entitle.sources.access import Pseudonymiser
from entitle.store import audit, db

runner = CliRunner()
PASSWORD = "correct horse battery"


def test_db_upgrade_then_users_add_list_disable(database_url: str) -> None:
    before = runner.invoke(users_app, ["list", "--url", database_url])
    assert before.exit_code == 2
    assert "entitle db upgrade" in before.output

    url = ["--url", database_url]
    assert runner.invoke(db_app, ["current", *url]).exit_code == 1
    upgraded = runner.invoke(db_app, ["upgrade", *url])
    assert upgraded.exit_code == 0, upgraded.output
    assert db.head_revision() in upgraded.output
    current = runner.invoke(db_app, ["current", *url])
    assert (current.exit_code, "up to date" in current.output) == (0, True)

    added = runner.invoke(
        users_app,
        ["add", "an.officer", "--role", "desk_officer", "--password-stdin", "--url", database_url],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    prompted = runner.invoke(
        users_app,
        ["add", "auditor1", "--role", "auditor", "--url", database_url],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    duplicate = runner.invoke(
        users_app,
        ["add", "an.officer", "--role", "auditor", "--password-stdin", "--url", database_url],
        input=PASSWORD + "\n",
    )
    assert duplicate.exit_code == 2
    assert "already exists" in duplicate.output
    bad_role = runner.invoke(users_app, ["add", "x", "--role", "root", "--url", database_url])
    assert bad_role.exit_code == 2

    assert runner.invoke(users_app, ["disable", "an.officer", "--url", database_url]).exit_code == 0
    assert runner.invoke(users_app, ["disable", "nobody", "--url", database_url]).exit_code == 2

    listed = runner.invoke(users_app, ["list", "--json", "--url", database_url])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == [
        {"id": 1, "username": "an.officer", "role": "desk_officer", "active": False},
        {"id": 2, "username": "auditor1", "role": "auditor", "active": True},
    ]
    table = runner.invoke(users_app, ["list", "--url", database_url])
    assert "auditor1" in table.output

    token = runner.invoke(
        users_app,
        ["token", "billing", "--purpose", "school", "--benefit", "ghent.school-tariff", *url],
    )
    assert token.exit_code == 0, token.output
    assert token.output.startswith("ent_")

    engine = db.make_engine(database_url)
    try:
        with db.session_factory(engine)() as s:
            admin = audit.search(s, kind="admin")
            assert [e["outcome"] for e in admin] == [
                "token_created",
                "user_disabled",
                "user_added",
                "user_added",
            ]
            assert audit.verify(s).ok
    finally:
        engine.dispose()
    assert runner.invoke(audit_app, ["verify", "--url", database_url]).exit_code == 0


def test_auditor_commands(migrated_database_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "pseudonym.key"
    pseudonyms = Pseudonymiser.from_key_file(key_file)
    anna = pseudonyms("85073003328")
    engine = db.make_engine(migrated_database_url)
    try:
        with db.session_factory(engine)() as s:
            for i in range(3):
                audit.append(
                    s,
                    kind="check",
                    actor="o1",
                    purpose="uitpas",
                    subject=anna if i != 1 else pseudonyms("90010100155"),
                    outcome="eligible",
                )
            s.commit()
    finally:
        engine.dispose()
    url = ["--url", migrated_database_url]

    report = runner.invoke(
        audit_app, ["subject", "85.07.30-033.28", "--key-file", str(key_file), "--json", *url]
    )
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["subject"] == anna
    assert [e["id"] for e in data["entries"]] == [1, 3]
    assert "85073003328" not in report.output

    invalid = runner.invoke(audit_app, ["subject", "85073003329", "--key-file", str(key_file)])
    assert invalid.exit_code == 2
    no_key = runner.invoke(
        audit_app, ["subject", "85073003328", "--key-file", str(tmp_path / "none"), *url]
    )
    assert no_key.exit_code == 2

    found = runner.invoke(audit_app, ["search", "--actor", "o1", "--kind", "check", "--json", *url])
    assert found.exit_code == 0, found.output
    assert [e["id"] for e in json.loads(found.output)] == [3, 2, 1]
    assert "o1" in runner.invoke(audit_app, ["search", *url]).output
    bad_date = runner.invoke(audit_app, ["search", "--since", "yesterday", *url])
    assert bad_date.exit_code == 2

    alerts = runner.invoke(audit_app, ["alerts", "--json", *url])
    assert alerts.exit_code == 0, alerts.output
    assert json.loads(alerts.output) == []
    assert "no unusual activity" in runner.invoke(audit_app, ["alerts", *url]).output

    verified = runner.invoke(audit_app, ["verify", *url])
    assert verified.exit_code == 0
    # 3 checks + subject report + 2 searches (the failed one never reached the log)
    assert "audit log intact: 6 entries" in verified.output
