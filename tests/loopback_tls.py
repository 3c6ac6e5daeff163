"""TLS for servers that tests and benchmarks run on loopback: a throwaway certificate
authority (trustme) and a certificate it issues for 127.0.0.1 and localhost, as PEM files a
server loads and a client trusts. Nothing here is trusted beyond the folder it is written to."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["LoopbackTLS", "loopback_tls"]


@dataclass(frozen=True)
class LoopbackTLS:
    cert_file: Path  # the server's certificate chain
    key_file: Path  # the server's private key
    ca_file: Path  # what a client trusts (``cafile``, ``SSL_CERT_FILE``)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def loopback_tls(folder: Path, name: str = "server") -> LoopbackTLS:
    """``name``.pem, ``name``.key and ``name``-ca.pem in ``folder`` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    tls = LoopbackTLS(folder / f"{name}.pem", folder / f"{name}.key", folder / f"{name}-ca.pem")
    tls.cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(tls.key_file))
    authority.cert_pem.write_to_path(str(tls.ca_file))
    return tls
