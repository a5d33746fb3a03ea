"""Completion certificates, signed so anyone can check them.

The signature is Ed25519 over the certificate's canonical JSON (keys sorted, no whitespace,
UTF-8, non-ASCII unescaped: the ledger's convention). The public key is published with every
certificate; a verifier recomputes the canonical content and checks the signature.
"""
import base64
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM = "Ed25519"
SIGNED_FIELDS = ("certificate_id", "talent_id", "display_name", "program_id", "program_title",
                 "program_kind", "program_field", "mentor_id", "issued_at")


def canonical(content):
    picked = {key: content[key] for key in SIGNED_FIELDS}
    return json.dumps(picked, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signing_key(seed):
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(private_key):
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(private_key, content):
    return base64.b64encode(private_key.sign(canonical(content))).decode()


def verify(public_key_b64_text, content, signature_b64):
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64_text))
        key.verify(base64.b64decode(signature_b64), canonical(content))
        return True
    except (InvalidSignature, ValueError):
        return False
