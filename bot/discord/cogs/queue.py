"""`/modq`: the moderators' queue of flags, as one slash-command group.

    /modq list [category] [thread] [author] [page]   open flags, newest first, with Previous/Next
    /modq show <id>                                  one flag in full
    /modq confirm <id> [note] · /modq dismiss <id> [note]
    /modq author <name>                              an author's flags and the decisions on them
    /modq scan [url] [file]                          classify a thread on demand (nothing stored)
    /modq stats                                      per category: flags, decisions, precision
    /modq thresholds [category] [value]              show; changing needs an admin and is audited

Every reply but a decision's is ephemeral. The moderator check runs for every command in
`ModassistTree.interaction_check`. Without moderator roles configured, `default_permissions` hides the group
in Discord's client from members without Manage Messages; with them, the group is shown to every member (a bot
cannot grant a command to a role) and that check answers (see `setup`).

Other features add sub-groups with `ModQueueCog.add_subgroup` from their own cog's `cog_load`, before the
commands are synced (issue 7's `/modq watch`).

A discord.py extension: the bot loads it in `setup_hook` (`setup` below adds the cog and the alert buttons).
What moderators ask for is answered by `bot.moderation`; this module renders and routes.
"""

from __future__ import annotations

import asyncio

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.access import NOT_AN_ADMIN, is_admin, reply
from bot.discord.actions import ACTION_BUTTONS
from bot.discord.app import QUEUE_COG, ModassistBot
from bot.discord.embeds import (
    ScannedPost,
    ScanThread,
    author_embed,
    flag_embed,
    flag_list_embed,
    scan_report_embed,
    stats_embed,
    thresholds_embed,
)
from bot.discord.forum_actions import FORUM_ACTION_BUTTONS
from bot.discord.markup import CATEGORY_LABELS, category_label
from bot.discord.urgent import urgent_field, urgent_threshold
from bot.discord.views import ALERT_BUTTONS, Pager, show_decision
from bot.errors import CommandError
from bot.records import Verdict
from bot.sources import fetch_threads, parse_bytes
from bot.sources.fetch import guarded_connector
from classifiers.result import category_named
from classifiers.suite import DetectorSuite
from classifiers.thread import Thread, post_name

# Discord shows each category as every alert spells it ('Off-topic'); the command gets its key ('off_topic').
CATEGORY_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in CATEGORY_LABELS.items()]
SCAN_MAX_BYTES = 10 * 1024 * 1024
SCAN_TIMEOUT_SECONDS = 20.0


def _scan(suite: DetectorSuite, threads: list[Thread]) -> list[ScanThread]:
    """Runs in an executor: the detectors are CPU-bound."""
    out = []
    for thread in threads:
        flagged = []
        for review in suite.review_thread(thread):
            if review.flags:
                post = review.post
                label = post_name(post.position, post.id)
                flagged.append(
                    ScannedPost(
                        label, post.author, tuple((f.category, f.score, f.reasons) for f in review.flags)
                    )
                )
        out.append(ScanThread(thread.title, len(thread.posts), tuple(flagged)))
    return out


@app_commands.guild_only()
@app_commands.default_permissions(manage_messages=True)
class ModQueueCog(
    commands.GroupCog, name=QUEUE_COG, group_name="modq", group_description="The moderation queue"
):
    """The `/modq` commands."""

    def __init__(self, bot: ModassistBot) -> None:
        self.bot = bot
        self._session: aiohttp.ClientSession | None = None
        super().__init__()

    async def cog_load(self) -> None:
        """Open the HTTP session `scan` fetches with."""
        allow_private = self.bot.settings.bot.fetch_private_addresses
        self._session = aiohttp.ClientSession(connector=guarded_connector(allow_private=allow_private))

    async def cog_unload(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()

    def add_subgroup(self, group: app_commands.Group) -> None:
        """Add a sub-group (e.g. `/modq watch`) to `/modq`; call before the commands are synced."""
        assert self.app_command is not None  # a GroupCog always has its group
        self.app_command.add_command(group)

    # -- the queue -----------------------------------------------------------------------------------

    @app_commands.command(name="list", description="Open flags, newest first")
    @app_commands.describe(
        category="only this category",
        thread="a thread id or part of its title",
        author="only posts by this author",
        page="page number",
    )
    @app_commands.choices(category=CATEGORY_CHOICES)
    async def list_flags(
        self,
        interaction: discord.Interaction,
        category: str | None = None,
        thread: str | None = None,
        author: str | None = None,
        page: app_commands.Range[int, 1, 10_000] = 1,
    ) -> None:
        """A page of open flags, with Previous/Next buttons."""
        size = self.bot.settings.bot.list_page_size
        filters = {"category": category, "thread": thread, "author": author}

        async def render(number: int) -> tuple[discord.Embed, bool]:
            rows = await self.bot.moderation.open_flags(
                category=category, thread=thread, author=author, limit=size + 1, offset=(number - 1) * size
            )
            has_more = len(rows) > size
            embed = flag_list_embed(
                rows[:size], page=number, page_size=size, has_more=has_more, filters=filters
            )
            return embed, has_more

        embed, has_more = await render(page)
        pager = Pager(render, owner_id=interaction.user.id, page=page, has_more=has_more)
        await interaction.response.send_message(
            embed=embed, view=pager, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(name="show", description="One flag in full")
    @app_commands.rename(flag_id="id")
    @app_commands.describe(flag_id="the flag's number (see /modq list)")
    async def show(self, interaction: discord.Interaction, flag_id: int) -> None:
        """Reasons, scores, evidence and the decisions of one flag."""
        detail, decisions = await self.bot.moderation.flag(flag_id)
        await interaction.response.send_message(
            embed=flag_embed(
                detail, decisions, excerpt_chars=min(3000, self.bot.settings.bot.excerpt_chars * 3)
            ),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def _decide(
        self, interaction: discord.Interaction, flag_id: int, verdict: Verdict, note: str | None
    ) -> None:
        decision, detail = await self.bot.moderation.decide_flag(
            flag_id,
            verdict,
            moderator_id=interaction.user.id,
            moderator_name=interaction.user.name,
            note=note,
        )
        problem = None
        if detail.flag.alert_id is not None:
            problem = await show_decision(self.bot, detail.flag.alert_id)
        done = "confirmed" if verdict == "confirm" else "dismissed"
        text = f"Flag {flag_id} {done} (decision {decision.id})."
        if problem:
            text += f" Note: {problem}."
        await reply(interaction, text)

    @app_commands.command(name="confirm", description="Confirm a flag: the post breaks the rules")
    @app_commands.rename(flag_id="id")
    @app_commands.describe(flag_id="the flag's number", note="why, for the record")
    async def confirm(
        self,
        interaction: discord.Interaction,
        flag_id: int,
        note: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        """Store a confirmation and update the alert."""
        await self._decide(interaction, flag_id, "confirm", note)

    @app_commands.command(name="dismiss", description="Dismiss a flag as a false alarm")
    @app_commands.rename(flag_id="id")
    @app_commands.describe(flag_id="the flag's number", note="why, for the record")
    async def dismiss(
        self,
        interaction: discord.Interaction,
        flag_id: int,
        note: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        """Store a dismissal and update the alert."""
        await self._decide(interaction, flag_id, "dismiss", note)

    @app_commands.command(name="author", description="An author's flags and the decisions on them")
    @app_commands.describe(name="the author's name on the forum")
    async def author(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 200]) -> None:
        """The author's history."""
        history = await self.bot.moderation.author_history(name)
        await interaction.response.send_message(
            embed=author_embed(history), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    # -- on demand -----------------------------------------------------------------------------------

    @app_commands.command(name="scan", description="Classify a thread now (a URL or an attached file)")
    @app_commands.describe(
        url="a thread page (XenForo) or a JSON Lines / text file URL", file="a thread file"
    )
    async def scan(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 8, 2000] | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        """Fetch and classify; the answer is ephemeral and nothing is stored or alerted."""
        if (url is None) == (file is None):
            raise CommandError("Give either a url or a file to scan (one of them).")
        if file is not None and file.size > SCAN_MAX_BYTES:
            raise CommandError(f"{file.filename} is larger than {SCAN_MAX_BYTES // (1024 * 1024)} MB.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        if url is not None:
            source = url
            threads = await fetch_threads(
                url, session=self._session, timeout=SCAN_TIMEOUT_SECONDS, max_bytes=SCAN_MAX_BYTES
            )
        else:
            assert file is not None
            source = file.filename
            try:
                data = await file.read()
            except discord.HTTPException as exc:
                raise CommandError(f"Could not download {file.filename}: {exc.status} {exc.text}") from exc
            threads = parse_bytes(data, source, max_bytes=SCAN_MAX_BYTES)
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(None, _scan, self.bot.moderation.suite, threads)
        await interaction.followup.send(
            embed=scan_report_embed(source, results),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    # -- numbers and settings ------------------------------------------------------------------------

    @app_commands.command(name="stats", description="Flags and decisions per category, with precision")
    async def stats(self, interaction: discord.Interaction) -> None:
        """Per category: flags, confirmed, dismissed, precision = confirmed / decided."""
        stats = await self.bot.moderation.category_stats()
        await interaction.response.send_message(embed=stats_embed(stats), ephemeral=True)

    @app_commands.command(name="thresholds", description="Show the flag thresholds; admins can change one")
    @app_commands.describe(category="the category to change", value="its new threshold, 0 to 1")
    @app_commands.choices(category=CATEGORY_CHOICES)
    async def thresholds(
        self,
        interaction: discord.Interaction,
        category: str | None = None,
        value: app_commands.Range[float, 0.0, 1.0] | None = None,
    ) -> None:
        """Show the thresholds; with a category and a value, change one (admins only; audited)."""
        moderation = self.bot.moderation
        if category is None and value is None:
            ordered, overrides = await moderation.thresholds()
            embed = thresholds_embed(ordered, overrides)
            name, shown = urgent_field(ordered, self.bot.settings.alerts)
            embed.add_field(name=name, value=shown, inline=False)
            await interaction.response.send_message(
                embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        key = category_named(category or "")
        if key is None or value is None:
            raise CommandError("To change a threshold give both the category and the value.")
        if not is_admin(interaction, self.bot.settings):
            await reply(interaction, NOT_AN_ADMIN)
            return
        old = await moderation.change_threshold(
            key,
            value,
            actor_id=interaction.user.id,
            actor_name=interaction.user.name,
            urgent_threshold=urgent_threshold(self.bot.settings.alerts),
        )
        await reply(
            interaction,
            f"The {category_label(key)} threshold is now {value:.2f} (was {old:.2f}); new posts are judged"
            " by it.",
        )


async def setup(bot: ModassistBot) -> None:
    """The extension's entry (`bot.load_extension`): the alert buttons and the actions on the alerted
    message (persistent: they answer clicks on alerts posted before a restart) and `/modq`."""
    bot.add_dynamic_items(*ALERT_BUTTONS, *ACTION_BUTTONS, *FORUM_ACTION_BUTTONS)
    cog = ModQueueCog(bot)
    if bot.settings.moderator_role_ids and cog.app_command is not None:
        # Discord hides a command with default permissions from members without them, and a bot cannot
        # grant it to a role (only a server admin can, in Integrations): with moderator roles configured,
        # `/modq` is shown to every member and our check (bot.discord.access) answers who may use it.
        cog.app_command.default_permissions = None
    await bot.add_cog(cog)


async def teardown(bot: ModassistBot) -> None:
    """Unloading the extension takes its buttons away too (discord.py removes the cog itself)."""
    bot.remove_dynamic_items(*ALERT_BUTTONS, *ACTION_BUTTONS, *FORUM_ACTION_BUTTONS)
