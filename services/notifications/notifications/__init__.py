"""Demeu notifications: who to tell, in which language, over which channel."""
