"""Which storage backend this environment uses, decided once: a leaf module every layer may import."""

import os
from typing import Literal

POSTGRES_URL_ENV = "DAGSTER_POSTGRES_URL"


def storage_backend() -> Literal["postgres", "sqlite"]:
    """The backend the instance uses in this environment."""
    return "postgres" if os.environ.get(POSTGRES_URL_ENV) else "sqlite"


def postgres_url() -> str:
    """DAGSTER_POSTGRES_URL, with the driver dagster-postgres installs (psycopg2) made explicit.

    SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3, which is not installed.
    """
    url = os.environ[POSTGRES_URL_ENV]
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare):]
    return url
