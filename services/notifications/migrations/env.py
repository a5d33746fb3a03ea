from alembic import context

from notifications.models import Base
from demeu_common.migrate import run_migrations

run_migrations(context, Base.metadata)
