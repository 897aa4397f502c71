"""Leaderboard tables generated from result.json files."""
