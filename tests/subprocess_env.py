"""The environment that gives a `petition` subprocess the same store as a test's Settings."""

from __future__ import annotations

from adapters.settings import Settings


def petition_env(settings: Settings) -> dict[str, str]:
    """Only the variables for the store and its keys (merge with os.environ to run)."""
    env = {
        "PETITION_STORE": settings.store,
        "PETITION_DATA_DIR": str(settings.data_dir),
        "PETITION_CIPHER_KEY": settings.cipher_key or "",
        "PETITION_QUERY_CODE_KEY": settings.query_code_key or "",
        "PETITION_LOG_FORMAT": "json",
    }
    if settings.postgres_schema:
        env["PETITION_POSTGRES_SCHEMA"] = settings.postgres_schema
    if settings.policy_file:  # a test's own policy reaches its processes too
        env["PETITION_POLICY_FILE"] = str(settings.policy_file)
    return env
