"""Demeu's internal library: the plumbing every service shares, written once.

Nothing here knows about campaigns, money or talents; domain rules live in each service.
"""
