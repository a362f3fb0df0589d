"""The XenForo 2 markup of a fake thread's pages: the page, its `.pageNav` and each post's article."""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.forum_server.thread import ForumPost


class ThreadPages:
    """Renders the pages of a `ForumThread` (which supplies the posts, the paths and the forum)."""

    def render(self, page: int) -> tuple[str, datetime]:
        """Page `page` as XenForo 2 HTML, and when its content last changed."""
        per_page = self.forum.posts_per_page
        shown = self.posts[(page - 1) * per_page : page * per_page]
        position = (page - 1) * per_page
        articles = "\n".join(self._article(post, position + n) for n, post in enumerate(shown, start=1))
        head_links = [f'<link rel="canonical" href="{self.page_url(page)}" />']
        if page < self.pages:
            head_links.append(f'<link rel="next" href="{self.page_path(page + 1)}" />')
        if page > 1:
            head_links.append(f'<link rel="prev" href="{self.page_path(page - 1)}" />')
        nav = self._page_nav(page)
        # The pagination belongs to the page: a new page makes the previous one change too.
        changed = max([p.changed_at for p in shown] or [self.changed_at])
        if page < self.pages:
            changed = max(changed, self.posts[page * per_page].changed_at)
        title = html.escape(self.title)
        document = f"""<!DOCTYPE html>
<html id="XF" lang="en-US" dir="LTR" data-xf="2.2" data-app="public" data-template="thread_view"
 data-content-key="thread-{self.id}" class="has-no-js template-thread_view">
<head>
<meta charset="utf-8" />
<title>{title} | Fake Forum</title>
{"".join(head_links)}
<meta property="og:title" content="{title}" />
</head>
<body data-template="thread_view">
<div class="p-pageWrapper" id="top">
<div class="p-body-header"><div class="p-title"><h1 class="p-title-value">{title}</h1></div></div>
{nav}
<div class="block block--messages" data-type="post">
<div class="block-container lbContainer"><div class="block-body js-replyNewMessageContainer">
{articles}
</div></div></div>
{nav}
</div>
</body>
</html>
"""
        return document, changed

    def _page_nav(self, page: int) -> str:
        if self.pages == 1:
            return ""
        items = []
        for number in range(1, self.pages + 1):
            current = " pageNav-page--current" if number == page else ""
            items.append(
                f'<li class="pageNav-page{current}"><a href="{self.page_path(number)}">{number}</a></li>'
            )
        prev = f'<a href="{self.page_path(page - 1)}" class="pageNav-jump pageNav-jump--prev">Prev</a>'
        following = f'<a href="{self.page_path(page + 1)}" class="pageNav-jump pageNav-jump--next">Next</a>'
        return (
            '<div class="block-outer"><nav class="pageNavWrapper"><div class="pageNav">'
            f'{prev if page > 1 else ""}<ul class="pageNav-main">{"".join(items)}</ul>'
            f"{following if page < self.pages else ''}</div></nav></div>"
        )

    def _article(self, post: ForumPost, position: int) -> str:
        author = html.escape(post.author, quote=True)
        link = f"{self.path}post-{post.id}"
        quote = ""
        if post.quote is not None:
            q_author, q_id, q_text = (html.escape(str(v), quote=True) for v in post.quote)
            quote = (
                f'<blockquote data-attributes="member: 1" data-quote="{q_author}" data-source="post: {q_id}"'
                ' class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch">'
                f'<div class="bbCodeBlock-title"><a href="/goto/post?id={q_id}"'
                f' class="bbCodeBlock-sourceJump">{q_author} said:</a></div>'
                f'<div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent js-expandContent">'
                f"{q_text}</div></div></blockquote>"
            )
        text = html.escape(post.text).replace("\n", "<br />\n")
        stamp = post.changed_at.strftime("%Y-%m-%dT%H:%M:%S+0000")
        return f"""<article class="message message--post js-post js-inlineModContainer"
 data-author="{author}" data-content="post-{post.id}" id="js-post-{post.id}">
<span class="u-anchorTarget" id="post-{post.id}"></span>
<div class="message-inner">
<div class="message-cell message-cell--user"><section class="message-user">
<div class="message-userDetails"><h4 class="message-name">
<a href="/members/{author}.1/" class="username">{author}</a></h4>
<h5 class="userTitle message-userTitle">Member</h5></div></section></div>
<div class="message-cell message-cell--main"><div class="message-main js-quickEditTarget">
<header class="message-attribution message-attribution--split">
<ul class="message-attribution-main listInline"><li class="u-concealed"><a href="{link}" rel="nofollow">
<time class="u-dt" datetime="{stamp}">{post.changed_at:%b %d, %Y}</time></a></li></ul>
<ul class="message-attribution-opposite message-attribution-opposite--list">
<li><a href="{link}" class="message-attribution-gadget" rel="nofollow">Share</a></li>
<li><a href="{link}" rel="nofollow">#{position}</a></li></ul>
</header>
<div class="message-content js-messageContent"><div class="message-userContent lbContainer js-lbContainer">
<article class="message-body js-selectToQuote"><div itemprop="text">
<div class="bbWrapper">{quote}{text}</div>
</div><div class="js-selectToQuoteEnd">&nbsp;</div></article>
</div></div>
<footer class="message-footer"><div class="message-actionBar actionBar"><a href="/posts/{post.id}/react"
 class="reaction actionBar-action">Like</a></div></footer>
</div></div>
</div>
</article>"""
