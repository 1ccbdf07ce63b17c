"""The shape of the project: Compose file, import contracts, layout."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_top_level_layout():
    required = {
        "manage.py",
        "tscc",
        "incidents",
        "escalations",
        "vendors",
        "oncall",
        "templates",
        "static",
        "docker-compose.yml",
        "pyproject.toml",
        "tests",
        "README.md",
        "Makefile",
        "requirements.lock",
        "locale",
        ".ci",
    }
    present = {p.name for p in ROOT.iterdir()}
    assert required <= present, sorted(required - present)


def test_compose_file_describes_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "worker-paging", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "worker-paging", "beat", "postgres", "redis"):
        assert "healthcheck" in services[name], name

    # Paging has a worker of its own: pages never queue behind other work.
    def queues(name):
        command = services[name]["command"]
        return set(command[command.index("-Q") + 1].split(","))

    assert queues("worker-paging") == {"critical"}
    assert queues("worker") == {"default", "bulk"}
    for name in ("web", "worker", "worker-paging", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        assert "SECRET_KEY" in env and env["DEBUG"] == "false"
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "uvicorn" in services["web"]["command"]


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client here")
def test_compose_file_is_valid_compose():
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)  # noqa: S607
    if probe.returncode != 0:
        pytest.skip("docker client has no compose plugin")
    result = subprocess.run(  # noqa: S607
        ["docker", "compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env={"SECRET_KEY": "x" * 60, "PATH": "/usr/bin:/bin:/usr/local/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


WRONG_WAY = {
    "incidents/models.py": "import escalations.models\n",
    "escalations/models.py": "",
    "vendors/models.py": "",
    "oncall/models.py": "",
    "tscc/models.py": "",
}


def test_a_wrong_way_import_fails_the_import_contracts(tmp_path):
    """The checker that `make test` runs really rejects incidents -> escalations."""
    for package in ("tscc", "incidents", "escalations", "vendors", "oncall"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "incidents" / "domain").mkdir()  # named by a contract
    (tmp_path / "incidents" / "domain" / "__init__.py").write_text("")
    (tmp_path / "oncall" / "domain").mkdir()
    (tmp_path / "oncall" / "domain" / "__init__.py").write_text("")
    (tmp_path / "escalations" / "domain").mkdir()
    (tmp_path / "escalations" / "domain" / "__init__.py").write_text("")
    (tmp_path / "vendors" / "domain").mkdir()
    (tmp_path / "vendors" / "domain" / "__init__.py").write_text("")
    for path, text in WRONG_WAY.items():
        (tmp_path / path).write_text(text)
    config = (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(config)
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint)],
        cwd=tmp_path,
        capture_output=True,
        text=True,  # noqa: S603
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode != 0
    assert "incidents never imports escalations or vendors BROKEN" in result.stdout
    (tmp_path / "incidents/models.py").write_text("import tscc.models\n")
    result = subprocess.run(
        [str(lint)],
        cwd=tmp_path,
        capture_output=True,
        text=True,  # noqa: S603
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_the_project_passes_its_import_contracts():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, result.stdout
