"""Write a new Alembic revision by comparing shared.database.metadata with the
schema at the current head (on a scratch SQLite file). Usage:
    python scripts/new_migration.py REV_ID "add foo column"     (e.g. 0002)
"""

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from shared.migrate import _alembic_config, upgrade


def main() -> None:
    rev_id, message = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        upgrade(engine)
        config = _alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    # Autogenerate renders JSONB's astext_type without the sa. prefix.
    path = Path(script.path)  # type: ignore[union-attr]
    path.write_text(path.read_text().replace("astext_type=Text()", "astext_type=sa.Text()"))


if __name__ == "__main__":
    main()
