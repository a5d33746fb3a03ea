"""Pure rules of notifications: rendering, recipients, signing, retry schedules. No broker,
no database."""
