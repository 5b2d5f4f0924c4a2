"""Node settings: defaults < TOML file < DICOMWIRE_* environment < flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dicomwire.node.config import ConfigError, NodeConfig, load, parse_known_ae


def test_defaults_need_nothing() -> None:
    config = load({}, environ={})
    assert (config.ae_title, config.port, config.on_duplicate) == ("DICOMWIRE", 11112, "keep")
    assert config.data_dir == Path("dicomwire-data")
    assert config.database_url.startswith("sqlite:///") and config.database_url.endswith(
        "dicomwire-data/index.sqlite"
    )


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    toml = tmp_path / "node.toml"
    toml.write_text(
        'ae_title = "FROMFILE"\nport = 2000\non_duplicate = "replace"\n'
        'allow_caller = ["MOD1", "MOD2"]\n'
        '[known_ae]\nVIEWER = "10.1.1.1:104"\n'
        '[tls]\ncert = "c.pem"\nkey = "k.pem"\n'
    )
    environ = {"DICOMWIRE_PORT": "3000", "DICOMWIRE_KNOWN_AE": "PACS=pacs.local:11112"}
    config = load({"port": 4000}, str(toml), environ)
    assert config.ae_title == "FROMFILE"  # only the file says it
    assert config.port == 4000  # flags beat the environment, which beats the file
    assert config.known_ae == {"PACS": ("pacs.local", 11112)}
    assert config.allow_caller == ("MOD1", "MOD2")
    assert (config.tls_cert, config.tls_key) == ("c.pem", "k.pem")
    assert config.on_duplicate == "replace"


def test_config_file_from_environment(tmp_path: Path) -> None:
    toml = tmp_path / "n.toml"
    toml.write_text('ae_title = "ENVFILE"\n')
    assert load({}, environ={"DICOMWIRE_CONFIG": str(toml)}).ae_title == "ENVFILE"


def test_known_ae_flags() -> None:
    assert parse_known_ae(["A=h:1", "B=[::1]:104"]) == {"A": ("h", 1), "B": ("::1", 104)}
    config = load({"known_ae": ["STORE=127.0.0.1:11113"]}, environ={})
    assert config.known_ae == {"STORE": ("127.0.0.1", 11113)}


@pytest.mark.parametrize(
    ("flags", "environ", "message"),
    [
        ({"port": 70000}, {}, "port"),
        ({"ae_title": "A\\B"}, {}, "ae_title"),
        ({"ae_title": "X" * 17}, {}, "ae_title"),
        ({"on_duplicate": "merge"}, {}, "on_duplicate"),
        ({"known_ae": ["NOPORT=host"]}, {}, "AET=HOST:PORT"),
        ({}, {"DICOMWIRE_PORT": "eleven"}, "port"),
        ({}, {"DICOMWIRE_COLOUR": "blue"}, "unknown setting 'colour'"),
        ({"tls_cert": "c.pem"}, {}, "tls_cert and tls_key"),
        ({"database": "mysql://x"}, {}, "database"),
        ({"workers": 0}, {}, "workers: give 1 to 64, not 0"),
        ({"workers": 65}, {}, "workers"),
        ({}, {"DICOMWIRE_WORKERS": "many"}, "workers"),
    ],
)
def test_bad_settings_are_named(flags: dict, environ: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(flags, environ=environ)


def test_bad_toml_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("port = = 1")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load({}, str(broken), {})
    with pytest.raises(ConfigError, match="cannot read"):
        load({}, str(tmp_path / "missing.toml"), {})


def test_validated_is_idempotent() -> None:
    config = NodeConfig().validated()
    assert config.validated() == config


def test_direct_io_is_on_unless_turned_off(tmp_path: Path) -> None:
    assert load({}, environ={}).direct_io is True
    assert load({}, environ={"DICOMWIRE_DIRECT_IO": "false"}).direct_io is False
    toml = tmp_path / "n.toml"
    toml.write_text("direct_io = false\n")
    assert load({}, str(toml), environ={}).direct_io is False
    assert load({"direct_io": False}, environ={"DICOMWIRE_DIRECT_IO": "on"}).direct_io is False


def test_no_direct_io_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from dicomwire.cli.main import build_parser
    from dicomwire.cli.serve import load_config

    for key in [k for k in os.environ if k.startswith("DICOMWIRE_")]:
        monkeypatch.delenv(key)
    parser = build_parser()
    assert load_config(parser.parse_args(["serve"])).direct_io is True
    assert load_config(parser.parse_args(["serve", "--no-direct-io"])).direct_io is False


def test_workers_from_each_source(tmp_path: Path) -> None:
    assert load({}, environ={}).workers == 1
    toml = tmp_path / "w.toml"
    toml.write_text("workers = 3\n")
    assert load({}, str(toml), {}).workers == 3
    assert load({}, str(toml), {"DICOMWIRE_WORKERS": "2"}).workers == 2
    assert load({"workers": 4}, str(toml), {"DICOMWIRE_WORKERS": "2"}).workers == 4
