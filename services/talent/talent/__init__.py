"""Demeu's Talent Factory (contract §6)."""
