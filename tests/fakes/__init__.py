"""Fakes of the services modassist talks to: a Discord server (REST + gateway)."""
