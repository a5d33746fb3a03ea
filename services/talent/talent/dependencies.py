"""The talent service's secrets: the key that encrypts private fields at rest and the key
that signs certificates.

Both come from configuration (``TALENT_ENCRYPTION_KEY`` / ``TALENT_CERTIFICATE_KEY``, the
environment over ``config.yaml``). When unset, a development key is derived
deterministically from a fixed label, so ``make up`` works on a laptop and data written by
one run can be read by the next. Such keys protect nothing: production must set both.

* ``TALENT_ENCRYPTION_KEY``: a Fernet key (``Fernet.generate_key()``, 32 url-safe base64
  bytes). Several keys separated by commas rotate: the first encrypts, all decrypt.
* ``TALENT_CERTIFICATE_KEY``: the 32-byte Ed25519 seed, url-safe base64.
"""
import base64
import hashlib
import json
import logging

from cryptography.fernet import Fernet, MultiFernet
from nameko.extensions import DependencyProvider

from talent.domain import certificates

log = logging.getLogger(__name__)

DEV_ENCRYPTION_LABEL = b"demeu-dev-talent-encryption-key-v1"
DEV_CERTIFICATE_LABEL = b"demeu-dev-talent-certificate-key-v1"


def dev_key(label):
    return base64.urlsafe_b64encode(hashlib.sha256(label).digest())


class Vault:
    def __init__(self, encryption_keys, certificate_seed):
        self._fernet = MultiFernet([Fernet(k) for k in encryption_keys])
        self._signer = certificates.signing_key(certificate_seed)
        self.public_key = certificates.public_key_b64(self._signer)

    def encrypt(self, value):
        """Encrypt a JSON-able value; None stays None."""
        if value is None:
            return None
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return self._fernet.encrypt(raw).decode()

    def decrypt(self, token):
        if token is None:
            return None
        return json.loads(self._fernet.decrypt(token.encode()))

    def sign(self, content):
        return certificates.sign(self._signer, content)

    def verify(self, content, signature):
        return certificates.verify(self.public_key, content, signature)


def vault_from_config(config):
    raw = (config.get("TALENT_ENCRYPTION_KEY") or "").strip()
    if raw:
        keys = [k.strip().encode() for k in raw.split(",") if k.strip()]
    else:
        log.warning("TALENT_ENCRYPTION_KEY is not set: using the development key")
        keys = [dev_key(DEV_ENCRYPTION_LABEL)]
    seed_text = (config.get("TALENT_CERTIFICATE_KEY") or "").strip()
    if seed_text:
        seed = base64.urlsafe_b64decode(seed_text + "=" * (-len(seed_text) % 4))
    else:
        log.warning("TALENT_CERTIFICATE_KEY is not set: using the development key")
        seed = base64.urlsafe_b64decode(dev_key(DEV_CERTIFICATE_LABEL))
    return Vault(keys, seed)


class Secrets(DependencyProvider):
    def setup(self):
        self.vault = vault_from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.vault
