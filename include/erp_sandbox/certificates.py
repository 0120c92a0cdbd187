"""A throw-away certificate authority for the loopback FTPS sandbox.

The FTPS client verifies the server like a real one would (CA file, host name 127.0.0.1), so the
sandbox needs a CA and a server certificate signed by it. They are kept on disk and reused while
still valid, so that a second demo run does not pay for key generation again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_IP = ipaddress.IPv4Address("127.0.0.1")
LOOPBACK_NAME = "localhost"

# Certificates are made to last long enough for any demo; they are replaced once less than this is left.
_LIFETIME = dt.timedelta(days=365)
_MIN_REMAINING = dt.timedelta(days=7)
# Tolerate a little clock skew between this machine and whatever checks the certificate.
_BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files: the CA the client trusts, and the server's certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls_certificate(directory: Path, names: Sequence[str] = ()) -> TlsFiles:
    """Return a CA and a server certificate for 127.0.0.1/localhost (and the host ``names``), reusing
    valid files in ``directory``.

    The CA's private key is not kept: when anything is missing or stale, everything is made anew.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server-key.pem",
    )
    if _still_valid(files, names):
        return files

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backoffice-export sandbox CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK_NAME)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _LIFETIME)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(LOOPBACK_IP), x509.DNSName(LOOPBACK_NAME),
                                         *(_general_name(name) for name in names)]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    # Key first: a crash half-way leaves a set that _still_valid rejects, never a cert without its key.
    _write(
        files.key_file,
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        mode=0o600,
    )
    _write(files.cert_file, server_cert.public_bytes(serialization.Encoding.PEM))
    _write(files.ca_file, ca_cert.public_bytes(serialization.Encoding.PEM))
    return files


def _still_valid(files: TlsFiles, names: Sequence[str] = ()) -> bool:
    """Whether the files on disk form a usable, matching set that will not expire soon."""
    try:
        ca_cert = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
        cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
        key = serialization.load_pem_private_key(files.key_file.read_bytes(), password=None)
        cert.verify_directly_issued_by(ca_cert)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    deadline = dt.datetime.now(dt.UTC) + _MIN_REMAINING
    return (
        key.public_key() == cert.public_key()
        and LOOPBACK_IP in san.get_values_for_type(x509.IPAddress)
        and {_general_name(name) for name in (str(LOOPBACK_IP), LOOPBACK_NAME, *names)} <= set(san)
        and cert.not_valid_after_utc > deadline
        and ca_cert.not_valid_after_utc > deadline
    )


def _general_name(name: str) -> x509.GeneralName:
    """A subject alternative name: an IP address entry for an address, a DNS entry otherwise."""
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` atomically with the given permissions (the key must never be world-readable)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
