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
