"""The emulator's web pages: what a person's browser sees at the `html_url`s the API hands out
(a pull request with its body, commits, checks, reviews and comments; a commit; a comparison;
the repository; a check run), so a link on the bot's card opens something readable.

Pages are read-only HTML served without a token, and only when the emulator is started with
`web_pages=True` (the sandbox does): the REST API and its authentication are untouched. They
read the repository state under its lock and never change it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from html import escape as e
from typing import TYPE_CHECKING

from sandbox.github import markdown
from sandbox.github.gitstore import CommitInfo, FileChange
from sandbox.github.models import CommitStatus, PullRequest

if TYPE_CHECKING:
    from sandbox.github.app import App

Page = tuple[int, str]  # (status, HTML document)
CSS = """
body{font:14px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;margin:0;
background:#fff}header{background:#24292f;color:#fff;padding:12px 24px}header a{color:#fff;
font-weight:600;text-decoration:none}main{max-width:1000px;margin:0 auto;padding:16px 24px}
h1{font-weight:400;margin:8px 0}h1 .num{color:#656d76}.state{display:inline-block;color:#fff;
border-radius:2em;padding:4px 12px;font-weight:600;margin-right:8px}.open{background:#1f883d}
.merged{background:#8250df}.closed{background:#cf222e}.meta{color:#656d76}
.box{border:1px solid #d0d7de;border-radius:6px;margin:16px 0}.box>.head{background:#f6f8fa;
border-bottom:1px solid #d0d7de;padding:8px 16px;border-radius:6px 6px 0 0}
.box>.body{padding:8px 16px}code,pre{font-family:ui-monospace,Menlo,monospace;font-size:12px}
code{background:#eff1f3;border-radius:4px;padding:1px 4px}pre{background:#f6f8fa;padding:12px;
border-radius:6px;overflow:auto}pre code{background:none;padding:0}ul.rows{list-style:none;
margin:0;padding:0}ul.rows li{padding:6px 0;border-bottom:1px solid #eaeef2}
ul.rows li:last-child{border:0}.ok{color:#1a7f37}.bad{color:#cf222e}.wait{color:#9a6700}
li.task{list-style:none;margin-left:-1.2em}.box .box{margin:8px 0}a{color:#0969da}
.add{color:#1a7f37}.del{color:#cf222e}nav a{margin-right:12px}
"""


def _doc(title: str, body: str, home: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}'
            f"</title><style>{CSS}</style></head><body><header><a href=\"{e(home)}\">"
            f"{e(home.rsplit('/', 2)[-2] + '/' + home.rsplit('/', 1)[-1])}</a></header>"
            f"<main>{body}</main></body></html>")


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value is not None else ""


def _box(head: str, body: str, anchor: str = "", testid: str = "") -> str:
    ident = f' id="{e(anchor)}"' if anchor else ""
    test = f' data-testid="{e(testid)}"' if testid else ""
    return f'<div class="box"{ident}{test}><div class="head">{head}</div>' \
           f'<div class="body">{body}</div></div>'


def _mark(word: str | None) -> str:
    good = word in ("success", "neutral", "skipped", "APPROVED")
    bad = word in ("failure", "error", "cancelled", "timed_out", "action_required",
                   "CHANGES_REQUESTED")
    css, sign = ("ok", "✓") if good else ("bad", "✗") if bad else ("wait", "●")
    return f'<span class="{css}">{sign}</span>'


class WebPages:
    """Answers GET of the repository's web paths (`/{owner}/{name}/pull/12`, ...) with HTML."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._routes: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Page]]] = [
            (re.compile(r"/?"), lambda m: self.repository()),
            (re.compile(r"/pulls/?"), lambda m: self.repository()),
            (re.compile(r"/pull/(\d+)(?:/[a-z]+)?/?"), lambda m: self.pull(int(m.group(1)))),
            (re.compile(r"/commit/([0-9a-fA-F]{4,40})/?"), lambda m: self.commit(m.group(1))),
            (re.compile(r"/compare/(.+?)\.\.\.(.+)"),
             lambda m: self.compare(m.group(1), m.group(2))),
            (re.compile(r"/runs/(\d+)/?"), lambda m: self.check_run(int(m.group(1)))),
        ]

    def answer(self, path: str) -> Page | None:
        """The page at `path`, or None when `path` is not one of the repository's web paths."""
        root = f"/{self.app.urls.owner}/{self.app.urls.name}"
        if path.lower() != root.lower() and not path.lower().startswith(root.lower() + "/"):
            return None
        rest = path[len(root):]
        for pattern, build in self._routes:
            match = pattern.fullmatch(rest)
            if match is not None:
                with self.app.state.lock:
                    return build(match)
        return None

    # ------------------------------------------------------------------ helpers

    @property
    def _home(self) -> str:
        return self.app.urls.html

    def _missing(self, what: str) -> Page:
        return 404, _doc("Not found", f"<h1>Not found</h1><p>{e(what)}</p>", self._home)

    def _sha_link(self, sha: str) -> str:
        return f'<a href="{e(self._home)}/commit/{e(sha)}"><code>{e(sha[:7])}</code></a>'

    def _commit_rows(self, infos: list[CommitInfo]) -> str:
        if not infos:
            return '<p class="meta">No commits.</p>'
        rows = "".join(
            f"<li>{self._sha_link(c.sha)} {e((c.message.splitlines() or [''])[0])} "
            f'<span class="meta">({e(c.author.name)}, {_when(c.author.date)})</span></li>'
            for c in infos)
        return f'<ul class="rows">{rows}</ul>'

    def _checks(self, sha: str) -> str:
        state = self.app.state
        rows = [
            f"<li>{_mark(run.conclusion or run.status)} <b>{e(run.name)}</b> "
            f"{e(run.conclusion or run.status)} "
            f'<a href="{e(self._home)}/runs/{run.id}">details</a></li>'
            for run in state.latest_check_runs(sha)
        ] + [self._status_row(s) for s in state.latest_statuses(sha)]
        if not rows:
            return '<p class="meta">No checks or statuses on this commit.</p>'
        return f'<ul class="rows">{"".join(rows)}</ul>'

    @staticmethod
    def _status_row(s: CommitStatus) -> str:
        target = f' <a href="{e(s.target_url)}">details</a>' if s.target_url else ""
        return (f"<li>{_mark(s.state)} <b>{e(s.context)}</b> {e(s.state)}"
                f"{': ' + e(s.description) if s.description else ''}{target}</li>")

    def _files(self, files: list[FileChange]) -> str:
        if not files:
            return '<p class="meta">No files changed.</p>'
        return "".join(
            _box(f"<code>{e(f.filename)}</code> {e(f.status)} "
                 f'<span class="add">+{f.additions}</span> <span class="del">-{f.deletions}</span>',
                 f"<pre>{e(f.patch)}</pre>" if f.patch else '<p class="meta">(no diff)</p>')
            for f in files[:100])

    # ------------------------------------------------------------------ pages

    def repository(self) -> Page:
        repo = self.app.repo
        branches = "".join(
            f"<li><b>{e(name)}</b> at {self._sha_link(sha)} "
            f"{e((repo.commit(sha).message.splitlines() or [''])[0])}</li>"
            for name, sha in sorted(repo.branches().items()))
        pulls = "".join(
            f'<li><a href="{e(self._home)}/pull/{pr.number}">#{pr.number} {e(pr.title)}</a> '
            f'<span class="meta">{e(self._state_word(pr))} · {e(pr.head)} → {e(pr.base)}'
            f"</span></li>"
            for pr in sorted(self.app.state.pulls.values(), key=lambda p: -p.number))
        body = (f"<h1>{e(self.app.urls.owner)}/{e(self.app.urls.name)}</h1>"
                + _box("Branches", f'<ul class="rows">{branches}</ul>')
                + _box("Pull requests", f'<ul class="rows">{pulls}</ul>' if pulls
                       else '<p class="meta">No pull requests.</p>'))
        return 200, _doc(f"{self.app.urls.owner}/{self.app.urls.name}", body, self._home)

    @staticmethod
    def _state_word(pr: PullRequest) -> str:
        return "merged" if pr.merged else pr.state

    def pull(self, number: int) -> Page:
        state = self.app.state
        pr = state.pulls.get(number)
        if pr is None:
            return self._missing(f"There is no pull request #{number}.")
        head, base = state.head_sha(pr), state.base_sha(pr)
        commits = list(reversed(self.app.repo.commits(f"{base}..{head}"))) if head and base \
            else []
        word = self._state_word(pr)
        merged = (f" as {self._sha_link(pr.merge_commit_sha)}"
                  if pr.merged and pr.merge_commit_sha else "")
        summary = (f'<span class="state {word}" data-testid="pr-state">{word.capitalize()}</span>'
                   f"<b>{e(pr.user)}</b> {'merged' if pr.merged else 'wants to merge'} "
                   f"{len(commits)} commit{'' if len(commits) == 1 else 's'} into "
                   f"<code>{e(pr.base)}</code> from <code>{e(pr.head)}</code>{merged}"
                   f' · <a href="{e(self._home)}/compare/{e(base)}...{e(head)}">compare</a>')
        timeline = sorted(
            [(r.submitted_at or pr.created_at, 0, r.id, self._review(r.id, r.user, r.state,
                                                                   r.body, r.submitted_at))
             for r in pr.reviews]
            + [(c.created_at, 1, c.id, _box(
                f"<b>{e(c.user)}</b> commented "
                f'<a class="meta" href="#issuecomment-{c.id}">{_when(c.created_at)}</a>',
                markdown.render(c.body), f"issuecomment-{c.id}", "pr-comment"))
               for c in pr.comments],
            key=lambda item: (item[0], item[1], item[2]))
        body = (
            f'<h1 data-testid="pr-title">{e(pr.title)} <span class="num">#{pr.number}</span></h1>'
            f'<p class="meta">{summary}</p>'
            + _box(f"<b>{e(pr.user)}</b> opened this on {_when(pr.created_at)}",
                   markdown.render(pr.body) or '<p class="meta">No description.</p>',
                   "description", "pr-body")
            + _box(f"Commits ({len(commits)})", self._commit_rows(commits), "commits")
            + _box(f"Checks and statuses on <code>{e(head[:7])}</code>", self._checks(head),
                   "checks", "pr-checks")
            + "<h2>Reviews and comments</h2>"
            + ("".join(item[3] for item in timeline)
               or '<p class="meta">No reviews or comments yet.</p>'))
        return 200, _doc(f"{pr.title} · #{pr.number}", body, self._home)

    def _review(self, ident: int, user: str, word: str, text: str,
                when: datetime | None) -> str:
        verb = {"APPROVED": "approved these changes", "CHANGES_REQUESTED": "requested changes",
                "DISMISSED": "reviewed (dismissed: the head moved)"}.get(word, "reviewed")
        return _box(f"{_mark(word)} <b>{e(user)}</b> {verb} <span class=\"meta\">"
                    f"{_when(when)}</span>", markdown.render(text) if text.strip() else "",
                    f"pullrequestreview-{ident}", "pr-review")

    def commit(self, ref: str) -> Page:
        repo = self.app.repo
        sha = repo.resolve(ref)
        if sha is None:
            return self._missing(f"There is no commit {ref}.")
        info = repo.commit(sha)
        subject, _, rest = info.message.partition("\n")
        parents = " ".join(self._sha_link(p) for p in info.parents) or "none"
        body = (f'<h1 data-testid="commit-subject">{e(subject)}</h1>'
                + (f"<pre>{e(rest.strip())}</pre>" if rest.strip() else "")
                + f'<p class="meta"><b>{e(info.author.name)}</b> committed '
                  f"{_when(info.author.date)} · commit <code>{e(sha)}</code> · parents "
                  f"{parents}</p>"
                + _box("Checks and statuses", self._checks(sha))
                + _box("Files changed", self._files(repo.diff_files(
                    info.parents[0] if info.parents else None, sha))))
        return 200, _doc(f"{subject} · {sha[:7]}", body, self._home)

    def compare(self, base: str, head: str) -> Page:
        repo = self.app.repo
        base_sha = repo.resolve(self.app.strip_owner(base))
        head_sha = repo.resolve(self.app.strip_owner(head))
        if base_sha is None or head_sha is None:
            return self._missing(f"Nothing to compare: {base}...{head} names an unknown ref.")
        start = repo.merge_base(base_sha, head_sha) or base_sha
        commits = list(reversed(repo.commits(f"{base_sha}..{head_sha}")))
        body = (f'<h1 data-testid="compare-title">Comparing <code>{e(base)}</code>...'
                f"<code>{e(head)}</code></h1>"
                + _box(f"Commits ({len(commits)})", self._commit_rows(commits))
                + _box("Files changed", self._files(repo.diff_files(start, head_sha))))
        return 200, _doc(f"Comparing {base}...{head}", body, self._home)

    def check_run(self, ident: int) -> Page:
        run = self.app.state.check_runs.get(ident)
        if run is None:
            return self._missing(f"There is no check run {ident}.")
        title = str(run.output.get("title") or "")
        summary = str(run.output.get("summary") or "")
        body = (f"<h1>{_mark(run.conclusion or run.status)} {e(run.name)}</h1>"
                f'<p class="meta">{e(run.status)} {e(run.conclusion or "")} on '
                f"{self._sha_link(run.head_sha)} · started {_when(run.started_at)}</p>"
                + (_box(e(title) or "Output", markdown.render(summary)) if title or summary
                   else ""))
        return 200, _doc(run.name, body, self._home)
