"""End-to-end tests: the real discord.py against the fake Discord server."""
