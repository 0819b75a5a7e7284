"""The example playbooks (a copy each test may edit), their catalog and a service offering them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.autotask.client import AutotaskClient
from services.directory import Directory
from services.onboarding.options import OptionSources
from services.onboarding.playbooks.catalog import Playbooks
from services.onboarding.presenter import Presenters
from services.onboarding.runner import Runner
from services.onboarding.service import OnboardingService
from services.store.db import Database
from tests.services.onboarding.conftest import Clock, RecordingPresenter

EXAMPLES = Path(__file__).resolve().parents[4] / "docs" / "examples" / "playbooks"


@pytest.fixture
def playbooks_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "playbooks"
    shutil.copytree(EXAMPLES, directory)
    return directory


@pytest.fixture
def options(autotask: AutotaskClient, runner: Runner) -> OptionSources:
    return OptionSources(autotask, runner.reference)


@pytest.fixture
def catalog(playbooks_dir: Path, options: OptionSources) -> Playbooks:
    playbooks = Playbooks(playbooks_dir, options)
    options.playbooks = playbooks.offered
    return playbooks


@pytest.fixture
def playbook_service(
    runner: Runner, options: OptionSources, db: Database, presenter: RecordingPresenter,
    catalog: Playbooks, clock: Clock,
) -> OnboardingService:  # fmt: skip
    presenters = Presenters()
    presenters.register("test", presenter)
    return OnboardingService(
        runner=runner, options=options, db=db, directory=Directory(runner.reference),
        presenters=presenters, playbooks=catalog, clock=clock,
    )  # fmt: skip


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
