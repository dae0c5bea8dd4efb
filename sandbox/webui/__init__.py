"""The sandbox's web UI: a Slack-like client of the Slack emulator beside live world panels.

`start_webui(world, auto_ci=False)` serves one page on a loopback port (`WebUI.url`); the
page polls GET /api/state?user=<id> every 700 ms and acts through POST /api/{command, post,
click, submit, close, home_opened, push, break, approve, check} as the acting user.
`auto_ci=True` also runs a stand-in CI passing the `ci` check of each open pull request's new
head (autoci.py). It must not hold workflow logic: the bot decides, the emulators record, this
only shows and forwards.

Stable hooks for browser tests (`data-testid`, with extra `data-*` attributes):

- page: `user-picker` (a <select>; option values are Slack user ids: U0DEV dana,
  U0REVIEW riley, U0STAKE sam, U0ONCALL omar; each option's text and `data-roles` name the
  person's roles, e.g. "stakeholder", "on-call", "prod approver"), `bot-status`, `toast`
  (an error shown), `offline` (the poll failed). The URL takes `?user=U0DEV&channel=C0DEPLOYS`.
- sidebar: `channel-<name>` (e.g. `channel-myapp-deploys`, with `data-channel-id`),
  `app-home`; the main pane: `channel-title`, `messages`, `home-view`, `home-empty`.
- a message: `message` (`data-ts`, `data-user`, `data-ephemeral="true|false"`) holding
  `message-author`, `message-text` (no blocks) or `message-blocks` with `block-header`,
  `block-section`, `block-fields` / `block-field`, `block-context`, `block-divider`,
  `block-actions`, `block-image` (a link), `block-button` (`data-action-id`,
  `data-block-id`, `data-value`; its text is the button's label), `block-select`,
  `mention`; `ephemeral-label` ("Only visible to you"); `click-error` (the app did not
  answer a click); `thread-link` ("N replies") opens `thread-pane` (`thread-close`,
  `thread-composer`, `thread-send`). A button's `confirm` opens `confirm-dialog`
  (`confirm-ok`, `confirm-deny`).
- composer: `composer` (an input; text starting with "/" is a slash command, other text a
  message), `composer-send`, `composer-form`.
- modal (the acting user's top view): `modal` (`data-view-id`, `data-callback-id`),
  `modal-title`, `modal-input` (`data-block-id`, `data-action-id`, `data-type`) holding
  `modal-field` (the control) and `modal-field-error`; `modal-error`, `modal-submit`,
  `modal-close`, `modal-x`.
- world: `env-panel` with `env-dev`, `env-staging`, `env-prod` (`data-ready`
  True|False|Unknown, `data-head` full sha, `data-revision` short applied sha), each
  holding `env-ready` (Ready | Not ready | Reconciling), `env-head` (short sha + subject),
  `env-image` (tag), `env-revision` (Flux's applied short sha), `env-message`, `env-pods`
  ("r/d ready", with `env-pod` items). `actions-panel`: `push-message`, `push-dev`,
  `break-dev`, `world-log` (`world-log-line`). `pulls-panel`: `pulls-empty` or
  `pull-<number>` (`data-state` open|closed|merged) holding `pull-state`, `pull-title`,
  `pull-checks`, `pull-reviews`, `pull-approve`, `pull-check-pass`, `pull-check-fail`.
- the GitHub emulator's pages a card's links open (sandbox/github/pages.py): `pr-title`,
  `pr-state`, `pr-body`, `pr-checks`, `pr-review`, `pr-comment` (`id="issuecomment-N"`);
  `commit-subject`; `compare-title`.
"""

from sandbox.webui.server import WebUI, start_webui

__all__ = ["WebUI", "start_webui"]
