"""The bot's cogs, each a discord.py extension (`async def setup(bot)`) the bot loads in `setup_hook`:
`queue` (`/modq`, the moderation queue, and the alert buttons) and `watch` (`/modq watch`)."""
