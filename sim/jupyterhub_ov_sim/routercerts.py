"""The router's certificate authority: a self-signed CA the simulator writes, and what it signs.

Each simulator makes a CA of its own at start (``<state dir>/router/ca.crt``: what clients
trust, as they would a cluster's ingress CA) and signs the router's default certificate with
it, for ``*.<ROUTER_DOMAIN>`` and the router's canonical host name (OpenShift's default
ingress certificate: edge Routes without a certificate of their own are served with it).
``issue`` signs a certificate for other host names (a test's Ingress TLS Secret).
Part of the cluster simulator, a test double (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .routes import ROUTER_CANONICAL_HOSTNAME, ROUTER_DOMAIN

_DAY = datetime.timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def server_context(cert_pem: bytes, key_pem: bytes, path: Path) -> ssl.SSLContext:
    """A server TLS context for a certificate (chain) and key; the file stays private."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(cert_pem.rstrip(b"\n") + b"\n" + key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(path)
    return context


class RouterCA:
    """A CA made at start, written to ``directory/ca.crt`` (its key stays in memory)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca_file = directory / "ca.crt"
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(_name("jupyterhub-ov simulator ingress CA"))
            .issuer_name(_name("jupyterhub-ov simulator ingress CA"))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 30 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )  # fmt: skip
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        self.ca_pem = self._cert.public_bytes(serialization.Encoding.PEM)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.ca_file.write_bytes(self.ca_pem)

    def issue(self, hosts: list[str]) -> tuple[bytes, bytes]:
        """A server certificate for ``hosts`` (PEM, followed by the CA's) and its key (PEM)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        ca_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(hosts[0]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 30 * _DAY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(ca_key_id, critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM) + self.ca_pem, _key_pem(key)

    def default_context(self) -> ssl.SSLContext:
        """The router's default certificate: ``*.<ROUTER_DOMAIN>`` and its canonical name."""
        cert, key = self.issue([f"*.{ROUTER_DOMAIN}", ROUTER_CANONICAL_HOSTNAME])
        return server_context(cert, key, self.directory / "default.pem")
