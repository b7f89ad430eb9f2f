"""`petition keys status|rotate`: which cipher keys this process has, and a new one.

Rotation never re-encrypts stored events: each event names the key that wrote it, and old keys
stay in the keyring to read them. With key files (the embedded default) ``rotate`` retires the
current key and writes a new one; with keys in the environment it prints a new key and the
two restarts that put it in force without any process meeting a key it lacks.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from adapters.cipher import KEY_ID_BYTES, MARKER, KeyringCipher, key_id
from adapters.cli.output import print_json, print_mapping
from adapters.cli.root import root
from adapters.keys import new_key, rotate_key_file
from adapters.settings import Settings
from adapters.wiring import where

keys = typer.Typer(help="Cipher keys: status and rotation.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(keys, name="keys")


@keys.command("status")
def status(as_json: JsonOpt = False) -> None:
    """The key that writes, the keys that read, and the key of the latest stored event."""
    settings = _settings()
    out = _keyring(settings)
    print_json(out) if as_json else print_mapping("cipher keys", out)


@keys.command("rotate")
def rotate(as_json: JsonOpt = False) -> None:
    """Start writing with a new cipher key; events written with older keys stay readable."""
    settings = _settings()
    before = _keyring(settings)  # also proves the current keys against the store
    if settings.cipher_key is None and not settings.is_postgres:
        old, new = rotate_key_file(settings.data_dir / "keys")
        out: dict[str, Any] = {
            "rotated": True, "old_key_id": key_id(old), "new_key_id": key_id(new),
            "key_folder": str(settings.data_dir / "keys"),
            "next": "back up the key folder now; running processes read the new key's events "
                    "at once and write with it after a restart"}
    else:
        new = new_key()
        out = {
            "rotated": False, "new_key": new, "new_key_id": key_id(new),
            "old_key_id": before["writes_with"],
            "next": ["1. add the new key to PETITION_CIPHER_READ_KEYS of every process; restart "
                     "them all",
                     "2. set PETITION_CIPHER_KEY to the new key, move the old key into "
                     "PETITION_CIPHER_READ_KEYS, restart them all",
                     "keep the old key there (and in the backups) while events written with "
                     "it are stored"]}
    print_json(out) if as_json else print_mapping("cipher key rotation", out)


def _settings() -> Settings:
    return root().settings


def _keyring(settings: Settings) -> dict[str, Any]:
    """The keys of the application the composition root built (which proved them at start)."""
    app = root().app  # the root owns it: closed when the process ends
    cipher = app.mapper.cipher
    assert isinstance(cipher, KeyringCipher)
    last = app.recorder.max_notification_id() or 0
    latest = app.recorder.select_notifications(start=last, limit=1) if last else []
    return {
        "store": where(settings),
        "keys_from": "environment" if settings.cipher_key else
                     str(settings.data_dir / "keys"),
        "writes_with": cipher.current_key_id,
        "reads_with": cipher.key_ids,
        "latest_event": last,
        "latest_event_key": _written_with(bytes(latest[0].state)) if latest else None,
    }


def _written_with(state: bytes) -> str:
    if state.startswith(MARKER):
        return state[len(MARKER):len(MARKER) + KEY_ID_BYTES].hex()
    return "(before key ids)"
