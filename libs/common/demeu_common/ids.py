"""Identifiers: every object id in the API is a UUID string."""
import uuid


def is_uuid(value):
    """True for a UUID in any of its usual spellings; callers answer 404 otherwise, without
    asking the database about a string that can name nothing."""
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False
