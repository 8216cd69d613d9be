"""schemathesis against the app's own OpenAPI document, as an admin (the deepest reach), on both
databases, with a fixed budget: no request may end in a server error. The budget is fixed (and
the generation derandomised) so that a run is reproducible and CI stays within its time.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import select

from greenpark.demo import load_demo
from greenpark.services.park import auth
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import new_database

#: Examples per API operation and generation mode (valid and invalid inputs; about 100 operations).
EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzzed(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    url = new_database(backend, tmp_path_factory.mktemp("fuzz"))
    with session_scope(url) as s:
        load_demo(s, synthetic_air=False)
        admin = s.scalars(select(m.AppUser).where(m.AppUser.username == "admin")).one()
        token = auth.create_api_token(s, admin, "schemathesis", 1)
    app = create_app(Settings(), database_url=url)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    # keep the fuzzer's own key: revoking tokens by id would cut the rest of the run short
    yield schema.exclude(path_regex=r"/tokens/"), token
    dispose_engine(url)


@pytest.fixture(scope="module")
def api_schema(fuzzed: tuple[Any, str]) -> Any:
    return fuzzed[0]


@pytest.fixture(scope="module")
def api_token(fuzzed: tuple[Any, str]) -> str:
    return fuzzed[1]


def test_no_server_errors(api_schema: Any, api_token: str) -> None:
    """Every operation, valid and invalid inputs; every 5xx is collected and reported at the end."""
    headers = {"Authorization": f"Bearer {api_token}"}
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    calls = 0
    for result in api_schema.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def run(case: Any) -> None:
                nonlocal calls
                calls += 1
                response = case.call(headers=headers)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{op.label} [{mode.value}] -> {response.status_code}: "  # noqa: B023
                                    f"path={case.path_parameters} query={case.query} body={str(case.body)[:200]} "
                                    f"answer={response.text[:200]}")  # fmt: skip

            with contextlib.suppress(
                Unsatisfiable
            ):  # e.g. no invalid value for an operation without parameters
                run()
    print(f"schemathesis: {calls} calls, by status class {dict(statuses)}")
    # the run reached the routes themselves, not only their validation
    assert calls > 1000 and sum(v for k, v in statuses.items() if k < 300) > 150
    assert failures == [], f"{len(failures)} server errors in {calls} calls:\n" + "\n".join(failures[:40])
