"""Tasks (Table 4.3.1) and projects (Table 4.3.2): kept as the plan gives them, progress reports
with their checks and audit trail, schedule conditions, effects rolled up per indicator."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.services.plan import projects
from greenpark.store.db import session_scope

runner = CliRunner()


def test_task_tree_and_projects_as_the_plan_gives_them(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        tree = projects.task_tree(s)
        rows = {p["seq"]: p for p in projects.list_projects(s, today=date(2021, 6, 1))}
    assert len(tree) == 3 and sum(len(g["actions"]) for g in tree) == 12
    assert sum(len(a["measures"]) for g in tree for a in g["actions"]) == 37  # every row of tasks.csv
    first = tree[0]["actions"][0]["measures"][0]
    assert first["name"] == "提高能源清洁供给" and first["departments"] == ["科经局", "执法局"]
    assert len(rows) == 20
    assert rows[10]["flag"] == "duplicate_of_17" and rows[17]["flag"] == "duplicate_of_10"
    assert rows[19]["flag"] == "stray_text" and "stray" in rows[19]["flag_text"]
    assert rows[11]["investment_10k_yuan"] == 26798  # 横沟河 project: 26798万
    # schedule: the plan gives cycles, not dates; projects start on the plan's first day (flagged)
    assert rows[3]["planned_start"] == "2021-01-01" and rows[3]["planned_end"] == "2023-01-01"
    assert rows[3]["schedule_assumed"] and rows[3]["planned_percent"] == pytest.approx(20.7, abs=0.1)


def test_progress_reports_checks_audit_and_conditions(fresh_plan_url: str) -> None:
    # from the plan's state (no reports yet), not the demo's illustrative history
    today = date(2022, 6, 1)
    with session_scope(fresh_plan_url) as s:
        projects.update(s, 3, date(2021, 3, 1), "in_progress", 20, 300, "图纸审定", "", "wang",
                        ("plan.pdf", b"%PDF-1.4"), today=today)  # fmt: skip
        with pytest.raises(projects.ProjectError, match="say why"):
            projects.update(s, 3, date(2021, 4, 1), "in_progress", 10, 300, today=today)
        with pytest.raises(projects.ProjectError, match="100 %"):
            projects.update(s, 3, date(2021, 4, 1), "done", 90, 300, today=today)
        with pytest.raises(projects.ProjectError, match="future"):
            projects.update(s, 3, date(2023, 1, 1), "in_progress", 30, 300, today=today)
        with pytest.raises(projects.ProjectError, match="status"):
            projects.update(s, 3, date(2021, 4, 1), "paused", 30, 300, today=today)
        p = projects.project_dict(projects.get_project(s, 3), today)
        # 2 years from 2021-01-01; on 2022-06-01 the schedule says 70 %, the project reports 20 % (2021-03)
        assert p["status"] == "in_progress" and p["actual_start"] == "2021-03-01"
        assert set(p["condition"]) == {"behind", "stalled"}
        projects.update(s, 3, date(2022, 5, 20), "done", 100, 1950, "投产", "", "li", today=today)
        p = projects.project_dict(projects.get_project(s, 3), today)
        assert p["condition"] == [] and p["actual_end"] == "2022-05-20"
        log = projects.history(s, 3)
        assert [(x["by"], x["percent"]) for x in log] == [("li", 100), ("wang", 20)]
        assert log[1]["attachment"] == "plan.pdf"
        assert "overdue" in projects.project_dict(projects.get_project(s, 2), date(2023, 1, 1))["condition"]


def test_effects_roll_up_per_indicator(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        projects.link_effect(s, 1, "4", 120, "t SO2/yr")
        projects.link_effect(s, 2, "4", 80, "t SO2/yr")
        projects.link_effect(s, 2, "4", 90, "t NOx/yr")
        projects.link_effect(s, 1, "4", 150, "t SO2/yr")  # a correction replaces, not adds
        roll = {r["unit"]: r for r in projects.effects_by_indicator(s)["4"]}
        assert roll["t SO2/yr"]["total"] == 230 and roll["t NOx/yr"]["total"] == 90
        with pytest.raises(Exception, match="unknown indicator"):
            projects.link_effect(s, 1, "99", 1, "t")


def test_projects_cli(fresh_plan_url: str) -> None:
    env = {"GREENPARK_DATABASE_URL": fresh_plan_url}
    res = runner.invoke(app, ["projects", "update", "11", "--status", "in_progress", "--percent", "35", "--by", "wang",
                              "--date", "2022-01-10", "--spent", "9000", "--milestone", "湿地开工"], env=env)  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["projects", "update", "11", "--status", "in_progress", "--percent", "20", "--by", "x"], env=env
    )
    assert res.exit_code == 2 and "say why" in res.output
    res = runner.invoke(app, ["projects", "list", "--json"], env=env)
    import json

    row = next(p for p in json.loads(res.output) if p["seq"] == 11)
    assert (row["status"], row["percent"], row["spent_10k_yuan"]) == ("in_progress", 35, 9000)


def test_projects_and_land_api_roles_and_update_form(fresh_plan_url: str) -> None:
    from fastapi.testclient import TestClient

    from greenpark.settings import Settings
    from greenpark.web.app import create_app
    from tests.test_api import login

    with TestClient(create_app(Settings(), database_url=fresh_plan_url)) as c:
        assert c.get("/api/projects").status_code == 401 and c.get("/api/land/rank").status_code == 401
        csrf = login(c, fresh_plan_url, "staff")  # project 5 has no report yet (the plan's state)
        assert len(c.get("/api/projects").json()["projects"]) == 20
        assert len(c.get("/api/projects/tasks").json()) == 3
        form = {
            "status": "in_progress",
            "percent": "25",
            "spent_10k_yuan": "500",
            "on": "2021-05-01",
            "milestone": "开工",
        }
        r = c.post("/api/projects/5/updates", data=form, files={"attachment": ("photo.jpg", b"\xff\xd8", "image/jpeg")},
                   headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["project"]["percent"] == 25
        r = c.post("/api/projects/5/updates", data={**form, "percent": "10"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422 and "say why" in r.json()["detail"]
        hist = c.get("/api/projects/5/history").json()
        assert hist[0]["by"] == "staff" and hist[0]["attachment"] == "photo.jpg"
        assert c.get("/api/land/rank", params={"year": 2020}).json()[0]["class"] == "A"
        assert c.get("/api/land/idle").json()["parcels_left"] == 4
        c.post("/api/auth/logout")
        login(c, fresh_plan_url, "enterprise")
        assert c.get("/api/land/rank").status_code == 403  # other enterprises' tax figures
