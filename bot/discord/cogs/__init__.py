"""The bot's cogs: `/modq` (the moderation queue)."""
