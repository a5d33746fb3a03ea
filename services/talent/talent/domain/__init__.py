"""The Talent Factory's rules in plain Python: no broker, no database, no Nameko."""
