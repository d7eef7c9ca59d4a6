"""DATABASE_URL is taken exactly as Neon prints it."""

import psycopg

from taskapi.db.session import libpq_conninfo, sqlalchemy_url

NEON = "postgresql://app:p%40ss%20word@ep-cool-rain-123-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require"


def test_neon_url_keeps_tls_settings_and_decodes_the_password():
    params = psycopg.conninfo.conninfo_to_dict(libpq_conninfo(NEON))
    assert params == {
        "host": "ep-cool-rain-123-pooler.us-east-2.aws.neon.tech",
        "user": "app",
        "password": "p@ss word",
        "dbname": "neondb",
        "sslmode": "require",
        "channel_binding": "require",
    }


def test_startup_options_survive():
    url = "postgresql://postgres@/db?host=/tmp/sock&options=-c%20TimeZone%3DUTC"
    assert psycopg.conninfo.conninfo_to_dict(libpq_conninfo(url))["options"] == "-c TimeZone=UTC"


def test_any_postgres_scheme_uses_psycopg():
    for scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        assert sqlalchemy_url(NEON.replace("postgresql", scheme, 1)).drivername == "postgresql+psycopg"


def test_the_embedded_cluster_lives_in_the_projects_own_data_folder():
    """Where the README says: .data/ next to the Makefile (a package move once sent it to backend/.data/)."""
    from taskapi.db.embedded import DATA_DIR

    assert DATA_DIR.name == ".data" and (DATA_DIR.parent / "Makefile").is_file()
