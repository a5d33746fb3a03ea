from alembic import context

from talent.models import Base
from demeu_common.migrate import run_migrations

run_migrations(context, Base.metadata)
