"""TLS (PS3.15 B.1) on the node: server authentication, and mutual TLS.

A CA, a server certificate (for 127.0.0.1) and client certificates are made
with ``openssl`` for each test module. Clients: DCMTK's echoscu/storescu
(``+tls``/``+tla``, ``+cf``) and dicomwire's own echo/store (``--tls-*``).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

import peers
from dicomwire.cli.main import main
from dicomwire.node.app import Node
from dicomwire.node.config import NodeConfig

AET = "DICOMWIRE"


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # signed by another CA
    rogue_key: Path


def openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-days", "2", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    return cert, key


def issue(folder: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
    ext = folder / f"{name}.ext"
    ext.write_text(extensions)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", f"/CN={name}")  # fmt: skip
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", ext)  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not found")
    folder = tmp_path_factory.mktemp("pki")
    ca = make_ca(folder, "site-ca")
    server = issue(
        folder,
        "server",
        ca,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    client = issue(folder, "client", ca, "extendedKeyUsage=clientAuth\n")
    rogue = issue(folder, "rogue", make_ca(folder, "other-ca"), "extendedKeyUsage=clientAuth\n")
    return Pki(ca[0], *server, *client, *rogue)


@pytest.fixture
def node(tmp_path: Path, pki: Pki, request: pytest.FixtureRequest) -> Iterator[Node]:
    mutual = getattr(request, "param", False)
    config = NodeConfig(
        data_dir=tmp_path / "data", port=peers.free_port(), bind=peers.LOCALHOST,
        tls_cert=str(pki.server_cert), tls_key=str(pki.server_key),
        tls_ca=str(pki.ca) if mutual else "", shutdown_grace=5,
    )  # fmt: skip
    running = Node(replace(config).validated())
    running.start()
    yield running
    running.stop()


def port(node: Node) -> int:
    return node.config.port


def dcmtk(tool: str, port: int, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return peers.run_dcmtk(tool, *args, "-aec", AET, peers.LOCALHOST, str(port))


def dicomwire(command: str, port: int, *args: Any, files: tuple[Path, ...] = ()) -> int:
    argv = [command, *map(str, args), "-aec", AET, peers.LOCALHOST, str(port)]
    return main([*argv, *map(str, files)])


# -- server authentication -----------------------------------------------------------


def test_dcmtk_verifies_the_node(node: Node, pki: Pki) -> None:
    trusted = dcmtk("echoscu", port(node), "+tla", "+cf", pki.ca)
    assert trusted.returncode == 0, peers.describe_run(trusted)
    untrusted = dcmtk("echoscu", port(node), "+tla", "+cf", pki.rogue_cert)  # wrong CA
    assert untrusted.returncode != 0, peers.describe_run(untrusted)
    plain = dcmtk("echoscu", port(node))  # no TLS at all: the handshake fails
    assert plain.returncode != 0, peers.describe_run(plain)


def test_dcmtk_stores_over_tls(node: Node, pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "ct.dcm"
    peers.make_ct(path, size_bytes=64 * 1024)
    result = peers.run_dcmtk("storescu", "+tla", "+cf", pki.ca, "-aec", AET,
                             peers.LOCALHOST, str(port(node)), path)  # fmt: skip
    assert result.returncode == 0, peers.describe_run(result)
    assert node.index.counts()["instances"] == 1


def test_dicomwire_tools_verify_the_node(node: Node, pki: Pki, tmp_path: Path) -> None:
    assert dicomwire("echo", port(node), "--tls-ca", pki.ca) == 0
    path = tmp_path / "ct.dcm"
    peers.make_ct(path, size_bytes=16 * 1024)
    assert dicomwire("store", port(node), "--tls-ca", pki.ca, files=(path,)) == 0
    assert node.index.counts()["instances"] == 1
    # A CA that did not sign the node's certificate: the handshake fails.
    assert dicomwire("echo", port(node), "--tls-ca", pki.rogue_cert) != 0


# -- mutual TLS -----------------------------------------------------------------------------


@pytest.mark.parametrize("node", [True], indirect=True, ids=["mutual"])
def test_mutual_tls_with_dcmtk(node: Node, pki: Pki) -> None:
    good = dcmtk("echoscu", port(node), "+tls", pki.client_key, pki.client_cert, "+cf", pki.ca)
    assert good.returncode == 0, peers.describe_run(good)
    anonymous = dcmtk("echoscu", port(node), "+tla", "+cf", pki.ca)
    assert anonymous.returncode != 0, peers.describe_run(anonymous)
    rogue = dcmtk("echoscu", port(node), "+tls", pki.rogue_key, pki.rogue_cert, "+cf", pki.ca)
    assert rogue.returncode != 0, peers.describe_run(rogue)


@pytest.mark.parametrize("node", [True], indirect=True, ids=["mutual"])
def test_mutual_tls_with_dicomwire(node: Node, pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "ct.dcm"
    peers.make_ct(path, size_bytes=16 * 1024)
    client = ("--tls-ca", pki.ca, "--tls-cert", pki.client_cert, "--tls-key", pki.client_key)
    assert dicomwire("echo", port(node), *client) == 0
    assert dicomwire("store", port(node), *client, files=(path,)) == 0
    assert node.index.counts()["instances"] == 1
    assert dicomwire("echo", port(node), "--tls-ca", pki.ca) != 0  # no client certificate
    rogue = ("--tls-ca", pki.ca, "--tls-cert", pki.rogue_cert, "--tls-key", pki.rogue_key)
    assert dicomwire("echo", port(node), *rogue) != 0
