"""Server settings: defaults < YAML (milvus.yaml key names) < environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from elanus.errors import ParameterError
from elanus.server.config import ServerConfig, load_config


def test_defaults() -> None:
    config = load_config(env={})
    assert config == ServerConfig()
    assert config.address == "127.0.0.1:19530"


def test_yaml_uses_milvus_key_names(tmp_path: Path) -> None:
    path = tmp_path / "milvus.yaml"
    path.write_text(
        "proxy:\n  port: 29530\n  http:\n    port: 9092\nlocalStorage:\n  path: /data/x\n"
    )
    config = load_config(path, env={})
    assert (config.port, config.http_port, config.data_dir) == (29530, 9092, "/data/x")


def test_environment_beats_file_and_flags_beat_environment(tmp_path: Path) -> None:
    path = tmp_path / "milvus.yaml"
    path.write_text("proxy:\n  port: 29530\n")
    env = {"ELANUS_PORT": "39530", "ELANUS_DATA_DIR": "/env/dir"}
    assert load_config(path, env=env).port == 39530
    config = load_config(path, env=env, overrides={"port": 49530, "data_dir": None})
    assert (config.port, config.data_dir) == (49530, "/env/dir")


def test_bad_values_are_parameter_errors(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="ELANUS_PORT"):
        load_config(env={"ELANUS_PORT": "many"})
    path = tmp_path / "bad.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ParameterError, match="mapping"):
        load_config(path, env={})


def test_fsync_is_on_by_default_and_layered(tmp_path: Path) -> None:
    assert load_config(env={}).fsync is True
    path = tmp_path / "milvus.yaml"
    path.write_text("elanus:\n  fsync: false\n")
    assert load_config(path, env={}).fsync is False
    assert load_config(path, env={"ELANUS_FSYNC": "true"}).fsync is True
    assert load_config(env={"ELANUS_FSYNC": "0"}, overrides={"fsync": None}).fsync is False
    assert load_config(env={"ELANUS_FSYNC": "yes"}, overrides={"fsync": False}).fsync is False
    with pytest.raises(ParameterError, match="ELANUS_FSYNC"):
        load_config(env={"ELANUS_FSYNC": "sometimes"})


def test_no_fsync_flag_reaches_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    import elanus.server as server
    from elanus.cli import main

    configs: list[ServerConfig] = []
    monkeypatch.setattr(server, "serve", lambda config: configs.append(config) or 0)
    assert main(["serve", "--no-fsync"]) == 0
    assert main(["serve"]) == 0
    assert [c.fsync for c in configs] == [False, True]


def test_engine_opened_without_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from elanus.server import app

    opened: list[bool] = []
    real_open = app.open_engine

    def spy(data_dir: str, *, sync: bool = True, **options: float) -> object:
        opened.append(sync)
        return real_open(data_dir, sync=sync, **options)

    monkeypatch.setattr(app, "open_engine", spy)
    stop = threading.Event()
    stop.set()
    config = ServerConfig(data_dir=str(tmp_path / "d"), port=0, http_port=0, fsync=False)
    # In a thread, so serve installs no signal handlers in the test process.
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(app.serve(config, stop_event=stop)))
    thread.start()
    thread.join(timeout=60)
    assert status == [0] and opened == [False]
