// promotebot sandbox web UI: a small Slack-like client and the world's panels.
// It polls GET /api/state and redraws only the parts whose data changed; every action is a
// POST to the sandbox's JSON endpoints as the acting user. No framework, no external assets.
"use strict";

const POLL_MS = 700;
const POLL_TIMEOUT_MS = 8000;

const ui = {
  user: null,
  channel: null,          // a channel id, or "home"
  thread: null,           // ts of the open thread's parent
  threadShown: null,      // the thread the pane last drew (a new one opens at its newest reply)
  data: null,             // the last /api/state answer
  keys: {},               // JSON of what each part was last drawn from
  clickNotes: {},         // message ts -> {text, until}
  busy: new Set(),        // keys of requests in flight (buttons show it)
  log: [],
  followUntil: 0,         // until then, the message list scrolls to what arrives (a send)
  modalValues: {},        // view id -> {block_id: {action_id: value}} typed so far
};

// ------------------------------------------------------------------------------ helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function escapeHtml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function unescapeSlack(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function userName(id) {
  const users = (ui.data && ui.data.slack.users) || [];
  const found = users.find((u) => u.id === id);
  return found ? found.name : id;
}

function groupHandle(id) {
  const groups = (ui.data && ui.data.slack.usergroups) || [];
  const found = groups.find((g) => g.id === id);
  return found ? found.handle : id;
}

function channelName(id) {
  const channels = (ui.data && ui.data.slack.channels) || [];
  const found = channels.find((c) => c.id === id);
  return found ? found.name : id;
}

function timeOf(ts) {
  const date = new Date(parseFloat(ts) * 1000);
  if (isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    return { ok: false, message: "The sandbox did not answer." };
  }
  try {
    const answer = await response.json();
    return answer;
  } catch (err) {
    return { ok: false, message: `HTTP ${response.status}` };
  }
}

function toast(text, kind) {
  const node = el("div", { class: `toast ${kind || "error"}`, "data-testid": "toast", text });
  document.getElementById("toasts").append(node);
  setTimeout(() => node.remove(), 6000);
}

function logLine(text, kind) {
  ui.log.unshift({ text, kind: kind || "info", at: new Date() });
  ui.log = ui.log.slice(0, 6);
  const list = document.getElementById("world-log");
  list.replaceChildren(...ui.log.map((entry) => el("li", {
    class: `log-${entry.kind}`, "data-testid": "world-log-line",
  }, el("span", { class: "log-time", text: entry.at.toLocaleTimeString() }), " ", entry.text)));
}

// ------------------------------------------------------------------------------ mrkdwn

const EMOJI = {
  white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", rocket: "🚀",
  octagonal_sign: "🛑", twisted_rightwards_arrows: "🔀", no_entry_sign: "🚫", no_entry: "⛔",
  alarm_clock: "⏰", satellite_antenna: "📡", memo: "📝", hourglass_flowing_sand: "⏳",
  hourglass: "⌛", calendar: "📅", arrows_counterclockwise: "🔄", information_source: "ℹ️",
  inbox_tray: "📥", grey_question: "❔", "+1": "👍", thumbsup: "👍", white_circle: "⚪",
  sunny: "☀️", repeat: "🔁", red_circle: "🔴", large_green_circle: "🟢", green_circle: "🟢",
  large_yellow_circle: "🟡", yellow_circle: "🟡", lock: "🔒", unlock: "🔓",
  leftwards_arrow_with_hook: "↩️", ice_cube: "🧊", home: "🏠", double_vertical_bar: "⏸️",
  clipboard: "📋", tada: "🎉", eyes: "👀", fire: "🔥", boom: "💥", bell: "🔔", wave: "👋",
  heavy_minus_sign: "➖", arrow_right: "➡️", package: "📦", gear: "⚙️", mag: "🔍",
  construction: "🚧", skull: "💀", hammer_and_wrench: "🛠️", link: "🔗", bulb: "💡",
  large_blue_circle: "🔵", black_circle: "⚫", stopwatch: "⏱️", question: "❓",
  exclamation: "❗", heavy_exclamation_mark: "❗", ok: "🆗", new: "🆕", recycle: "♻️",
  // the rest of what the bot writes (tests/webui/test_emoji.py keeps this list complete)
  rotating_light: "🚨", adhesive_bandage: "🩹", busts_in_silhouette: "👥", arrow_forward: "▶️",
  arrow_heading_down: "⤵️", arrow_heading_up: "⤴️",
  // common ones people type
  "-1": "👎", thumbsdown: "👎", smile: "😄", slightly_smiling_face: "🙂", joy: "😂",
  heart: "❤️", pray: "🙏", raised_hands: "🙌", clap: "👏", ok_hand: "👌", muscle: "💪",
  thinking_face: "🤔", sweat_smile: "😅", grimacing: "😬", scream: "😱", sob: "😭",
  point_right: "👉", point_up: "☝️", sparkles: "✨", star: "⭐", zap: "⚡", pushpin: "📌",
  key: "🔑", shield: "🛡️", hammer: "🔨", wrench: "🔧", mag_right: "🔎", speech_balloon: "💬",
  mega: "📣", loudspeaker: "📢", sos: "🆘", ambulance: "🚑", bug: "🐛", chart_with_upwards_trend: "📈",
  chart_with_downwards_trend: "📉", heavy_plus_sign: "➕", arrow_up: "⬆️", arrow_down: "⬇️",
  arrow_left: "⬅️", arrow_backward: "◀️", fast_forward: "⏩", rewind: "⏪", hand: "✋",
  raised_hand: "✋", stop_sign: "🛑", clock1: "🕐", spiral_calendar_pad: "🗓️", date: "📅",
  pencil: "📝", pencil2: "✏️", heavy_multiplication_x: "✖️", checkered_flag: "🏁", trophy: "🏆",
  100: "💯", coffee: "☕", snowflake: "❄️", robot_face: "🤖", ship: "🚢", truck: "🚚",
};

function emoji(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
}

function slackToken(inner) {
  // What Slack shows for <...>: mentions, channels, groups, dates and links.
  const [target, label] = splitOnce(inner, "|");
  if (target.startsWith("@")) {
    return `<span class="mention" data-testid="mention">@${escapeHtml(userName(target.slice(1)))}</span>`;
  }
  if (target.startsWith("#")) {
    return `<span class="mention">#${escapeHtml(label || channelName(target.slice(1)))}</span>`;
  }
  if (target.startsWith("!subteam^")) {
    return `<span class="mention">@${escapeHtml(label ? label.replace(/^@/, "") : groupHandle(target.slice(9)))}</span>`;
  }
  if (target.startsWith("!date^")) {
    const parts = target.split("^");
    const date = new Date(parseInt(parts[1], 10) * 1000);
    const shown = isNaN(date.getTime()) ? (label || "") : date.toLocaleString([], {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    return `<span class="date">${escapeHtml(shown)}</span>`;
  }
  if (target.startsWith("!")) {
    return `<span class="mention">@${escapeHtml(label || target.slice(1))}</span>`;
  }
  if (/^(https?:|mailto:)/i.test(target)) {
    const shown = label ? formatInline(label) : escapeHtml(target);
    return `<a href="${escapeHtml(target)}" target="_blank" rel="noopener noreferrer">${shown}</a>`;
  }
  return escapeHtml(`<${inner}>`);
}

function splitOnce(text, sep) {
  const at = text.indexOf(sep);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

function formatInline(text) {
  // Bold, italic, strike and emoji on already-escaped-free text (labels of links).
  return styles(escapeHtml(emoji(unescapeSlack(text))));
}

function styles(html) {
  return html
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, "$1<b>$2</b>")
    .replace(/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g, "$1<i>$2</i>")
    .replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/g, "$1<s>$2</s>");
}

function mrkdwn(text) {
  // Slack's mrkdwn to safe HTML: <tokens> and `code` are set aside first, then styles.
  const saved = [];
  const hold = (html) => `\u0000${saved.push(html) - 1}\u0000`;
  let source = String(text || "");
  source = source.replace(/```([\s\S]*?)```/g,
    (all, code) => hold(`<pre class="code-block">${escapeHtml(unescapeSlack(code.replace(/^\n/, "")))}</pre>`));
  source = source.replace(/`([^`\n]+)`/g,
    (all, code) => hold(`<code>${escapeHtml(unescapeSlack(code))}</code>`));
  source = source.replace(/<([^<>\n]+)>/g, (all, inner) => hold(slackToken(inner)));
  let html = escapeHtml(emoji(unescapeSlack(source)));
  html = styles(html);
  html = html.split("\n").map((line) => (line.startsWith("&gt; ")
    ? `<span class="quote">${line.slice(5)}</span>` : line)).join("<br>");
  return html.replace(/\u0000(\d+)\u0000/g, (all, index) => saved[Number(index)]);
}

function textObject(obj, extraClass) {
  if (!obj) return null;
  if (obj.type === "mrkdwn") {
    return el("div", { class: `mrkdwn ${extraClass || ""}`, html: mrkdwn(obj.text) });
  }
  return el("div", { class: `plain ${extraClass || ""}`, text: emoji(String(obj.text || "")) });
}

function plainText(obj) {
  return obj ? emoji(String(obj.text || "")) : "";
}

// ------------------------------------------------------------------------------ Block Kit

// `where` says what a click acts on: {channel, ts} for a message, {view_id} for a view.
function renderBlocks(blocks, where) {
  return (blocks || []).map((block) => renderBlock(block, where)).filter(Boolean);
}

function renderBlock(block, where) {
  const id = block.block_id;
  switch (block.type) {
    case "header":
      return el("div", { class: "b-header", "data-testid": "block-header", "data-block-id": id },
        plainText(block.text));
    case "section": {
      const node = el("div", { class: "b-section", "data-testid": "block-section", "data-block-id": id });
      const main = el("div", { class: "b-section-main" });
      if (block.text) main.append(textObject(block.text, "b-text"));
      if (block.fields && block.fields.length) {
        main.append(el("div", { class: "b-fields", "data-testid": "block-fields" },
          block.fields.map((f) => el("div", { class: "b-field", "data-testid": "block-field" },
            textObject(f)))));
      }
      node.append(main);
      if (block.accessory) node.append(renderElement(block.accessory, block, where, "b-accessory"));
      return node;
    }
    case "context":
      return el("div", { class: "b-context", "data-testid": "block-context", "data-block-id": id },
        (block.elements || []).map((e) => (e.type === "image"
          ? el("a", { href: e.image_url, target: "_blank", rel: "noopener noreferrer",
            class: "img-link" }, `🖼 ${e.alt_text || "image"}`)
          : textObject(e, "b-context-item"))));
    case "divider":
      return el("hr", { class: "b-divider", "data-testid": "block-divider" });
    case "actions":
      return el("div", { class: "b-actions", "data-testid": "block-actions", "data-block-id": id },
        (block.elements || []).map((e) => renderElement(e, block, where)));
    case "image":
      return el("div", { class: "b-image", "data-testid": "block-image", "data-block-id": id },
        el("a", { href: block.image_url, target: "_blank", rel: "noopener noreferrer", class: "img-link" },
          `🖼 ${plainText(block.title) || block.alt_text || block.image_url}`));
    case "input":
      return renderInput(block, where);
    case "rich_text":
      return el("div", { class: "mrkdwn", html: richText(block) });
    case "file":
    case "video":
      return el("div", { class: "b-image", "data-testid": "block-image" },
        el("a", { href: block.video_url || block.title_url || "#", target: "_blank" },
          `▶ ${plainText(block.title) || block.type}`));
    default:
      return el("div", { class: "b-unknown", text: `[${block.type} block]` });
  }
}

function richText(block) {
  const parts = [];
  const walk = (node) => {
    if (!node) return;
    if (node.type === "text") parts.push(escapeHtml(node.text || ""));
    else if (node.type === "link") parts.push(`<a href="${escapeHtml(node.url || "#")}" target="_blank">${escapeHtml(node.text || node.url || "")}</a>`);
    else if (node.type === "user") parts.push(`<span class="mention">@${escapeHtml(userName(node.user_id))}</span>`);
    else if (node.type === "emoji") parts.push(EMOJI[node.name] || `:${escapeHtml(node.name)}:`);
    (node.elements || []).forEach(walk);
    if (["rich_text_section", "rich_text_preformatted", "rich_text_quote"].includes(node.type)) parts.push("<br>");
  };
  (block.elements || []).forEach(walk);
  return parts.join("");
}

function renderElement(element, block, where, extraClass) {
  const common = {
    "data-action-id": element.action_id, "data-block-id": block.block_id,
  };
  switch (element.type) {
    case "button": {
      const key = `click:${where.view_id || where.ts}:${block.block_id}:${element.action_id}:${element.value || ""}`;
      const button = el("button", {
        ...common, class: `btn ${element.style || ""} ${extraClass || ""}`,
        "data-testid": "block-button", "data-value": element.value,
        disabled: ui.busy.has(key) ? true : null,
        onclick: () => onButton(element, block, where, key),
      }, plainText(element.text));
      if (element.url) button.title = element.url;
      return button;
    }
    case "image":
      return el("a", { href: element.image_url, target: "_blank", class: `img-link ${extraClass || ""}` },
        `🖼 ${element.alt_text || "image"}`);
    case "static_select":
    case "external_select":
    case "overflow":
    case "radio_buttons": {
      const options = optionsOf(element);
      const select = el("select", {
        ...common, class: `select ${extraClass || ""}`, "data-testid": "block-select",
        onchange: (event) => {
          if (!event.target.value) return;
          doClick({ action_id: element.action_id, block_id: block.block_id,
            value: event.target.value }, where);
        },
      }, el("option", { value: "", text: plainText(element.placeholder) || (element.type === "overflow" ? "⋯" : "Choose…") }),
      options.map((o) => el("option", { value: o.value, text: plainText(o.text) })));
      return select;
    }
    default:
      return el("span", { class: "b-unknown", text: `[${element.type}]` });
  }
}

function optionsOf(element) {
  const options = [...(element.options || [])];
  for (const group of element.option_groups || []) options.push(...(group.options || []));
  return options;
}

async function onButton(element, block, where, key) {
  if (element.url) window.open(element.url, "_blank", "noopener");
  if (element.confirm) {
    const yes = await confirmDialog(element.confirm);
    if (!yes) return;
  }
  await doClick({ action_id: element.action_id, block_id: block.block_id,
    value: element.value }, where, key);
}

async function doClick(action, where, key) {
  const body = { user: ui.user, ...action };
  if (where.view_id) {
    body.view_id = where.view_id;
    const values = collectValues(document.querySelector("#modal-root .modal"));
    if (values && Object.keys(values).length) body.values = values;
  } else {
    body.channel = where.channel;
    body.ts = where.ts;
  }
  if (key) { ui.busy.add(key); redrawSoon(); }
  const answer = await api("/api/click", body);
  if (key) { ui.busy.delete(key); redrawSoon(); }
  const noteKey = where.view_id || where.ts;
  if (!answer.ok) {
    toast(answer.message || answer.error || "The click failed.");
  } else if (answer.error || (answer.status && answer.status !== 200)) {
    ui.clickNotes[noteKey] = {
      text: `⚠ promotebot didn't respond (${answer.error || `HTTP ${answer.status}`}). Try again later.`,
      until: Date.now() + 20000,
    };
  } else {
    delete ui.clickNotes[noteKey];
  }
  redrawSoon();
}

function confirmDialog(confirm) {
  return new Promise((resolve) => {
    const root = document.getElementById("confirm-root");
    const done = (answer) => { root.replaceChildren(); resolve(answer); };
    root.replaceChildren(el("div", { class: "backdrop", "data-testid": "confirm-dialog" },
      el("div", { class: "modal small" },
        el("div", { class: "modal-head" }, el("span", { class: "modal-title", text: plainText(confirm.title) || "Are you sure?" })),
        el("div", { class: "modal-body" }, textObject(confirm.text)),
        el("div", { class: "modal-foot" },
          el("button", { class: "btn", "data-testid": "confirm-deny", onclick: () => done(false) },
            plainText(confirm.deny) || "Cancel"),
          el("button", { class: `btn ${confirm.style === "danger" ? "danger" : "primary"}`,
            "data-testid": "confirm-ok", onclick: () => done(true) },
          plainText(confirm.confirm) || "Yes")))));
  });
}

// ------------------------------------------------------------------------------ inputs

function renderInput(block, where) {
  const element = block.element || {};
  const field = el("div", { class: "b-input", "data-testid": "modal-input",
    "data-block-id": block.block_id, "data-action-id": element.action_id,
    "data-type": element.type });
  const label = el("label", { class: "input-label" }, plainText(block.label),
    block.optional ? el("span", { class: "optional", text: " (optional)" }) : null);
  field.append(label);
  const typed = ((ui.modalValues[where.view_id] || {})[block.block_id] || {})[element.action_id];
  const control = inputControl(element, typed);
  control.classList.add("input-control");
  control.setAttribute("data-testid", "modal-field");
  control.setAttribute("data-block-id", block.block_id);
  control.setAttribute("data-action-id", element.action_id);
  control.addEventListener("input", () => rememberValues(where.view_id));
  control.addEventListener("change", () => rememberValues(where.view_id));
  field.append(control);
  if (block.hint) field.append(el("div", { class: "hint", text: plainText(block.hint) }));
  field.append(el("div", { class: "field-error", "data-testid": "modal-field-error" }));
  return field;
}

function inputControl(element, typed) {
  const initial = typed !== undefined ? typed : undefined;
  switch (element.type) {
    case "plain_text_input":
    case "email_text_input":
    case "url_text_input":
    case "number_input": {
      const value = initial !== undefined ? initial : (element.initial_value || "");
      const attrs = { placeholder: plainText(element.placeholder), maxlength: element.max_length };
      if (element.multiline) return el("textarea", { ...attrs, rows: 4, text: value });
      const type = { email_text_input: "email", url_text_input: "url", number_input: "text" }[element.type] || "text";
      const input = el("input", { ...attrs, type });
      input.value = value;
      return input;
    }
    case "static_select":
    case "external_select":
    case "radio_buttons": {
      const chosen = initial !== undefined ? initial : (element.initial_option || {}).value;
      const select = el("select", {}, el("option", { value: "", text: plainText(element.placeholder) || "Choose…" }),
        optionsOf(element).map((o) => el("option", { value: o.value, text: plainText(o.text) })));
      select.value = chosen || "";
      return select;
    }
    case "checkboxes":
    case "multi_static_select": {
      const chosen = initial !== undefined ? initial
        : (element.initial_options || []).map((o) => o.value);
      const box = el("div", { class: "checks" }, optionsOf(element).map((o) => el("label", { class: "check" },
        el("input", { type: "checkbox", value: o.value, checked: chosen.includes(o.value) ? true : null }),
        " ", plainText(o.text))));
      return box;
    }
    case "users_select":
    case "multi_users_select": {
      const chosen = initial !== undefined ? initial : (element.initial_user || element.initial_users || "");
      const select = el("select", { multiple: element.type.startsWith("multi") ? true : null },
        el("option", { value: "", text: "Choose a person…" }),
        ((ui.data && ui.data.slack.users) || []).filter((u) => !u.is_bot)
          .map((u) => el("option", { value: u.id, text: u.name })));
      if (!select.multiple) select.value = chosen || "";
      return select;
    }
    case "conversations_select":
    case "channels_select": {
      const chosen = initial !== undefined ? initial : (element.initial_conversation || element.initial_channel || "");
      const select = el("select", {}, el("option", { value: "", text: "Choose a channel…" }),
        ((ui.data && ui.data.slack.channels) || []).map((c) => el("option", { value: c.id, text: `#${c.name}` })));
      select.value = chosen || "";
      return select;
    }
    case "datepicker": {
      const input = el("input", { type: "date" });
      input.value = initial !== undefined ? initial : (element.initial_date || "");
      return input;
    }
    case "timepicker": {
      const input = el("input", { type: "time" });
      input.value = initial !== undefined ? initial : (element.initial_time || "");
      return input;
    }
    default:
      return el("div", { class: "b-unknown", text: `[${element.type}]` });
  }
}

function controlValue(field) {
  const type = field.getAttribute("data-type");
  const control = field.querySelector(".input-control");
  if (!control) return undefined;
  if (type === "checkboxes" || type === "multi_static_select") {
    return [...control.querySelectorAll("input:checked")].map((i) => i.value);
  }
  if (control.tagName === "SELECT" && control.multiple) {
    return [...control.selectedOptions].map((o) => o.value).filter(Boolean);
  }
  if (control.value === undefined) return undefined;
  if (control.tagName === "SELECT" && control.value === "") return null;
  return control.value;
}

function collectValues(root) {
  if (!root) return null;
  const values = {};
  for (const field of root.querySelectorAll("[data-testid=modal-input]")) {
    const value = controlValue(field);
    if (value === undefined) continue;
    const block = field.getAttribute("data-block-id");
    const action = field.getAttribute("data-action-id");
    (values[block] = values[block] || {})[action] = value;
  }
  return values;
}

function rememberValues(viewId) {
  const values = collectValues(document.querySelector("#modal-root .modal"));
  if (values) ui.modalValues[viewId] = values;
}

// ------------------------------------------------------------------------------ modals

function drawModal() {
  const views = (ui.data && ui.data.slack.views) || [];
  const top = views[views.length - 1];
  const key = top ? `${top.id}:${top.hash}` : "";
  if (ui.keys.modal === key) return;
  ui.keys.modal = key;
  const root = document.getElementById("modal-root");
  if (!top) { root.replaceChildren(); return; }
  const where = { view_id: top.id };
  const submit = plainText(top.submit);
  const close = plainText(top.close) || "Cancel";
  const form = el("form", { class: "modal", onsubmit: (event) => { event.preventDefault(); submitModal(top); } },
    el("div", { class: "modal-head" },
      el("span", { class: "modal-title", "data-testid": "modal-title", text: plainText(top.title) }),
      el("button", { type: "button", class: "icon-btn", "data-testid": "modal-x", title: "Close",
        onclick: () => closeModal(top) }, "×")),
    el("div", { class: "modal-body" }, renderBlocks(top.blocks, where),
      el("div", { class: "modal-error", "data-testid": "modal-error" })),
    el("div", { class: "modal-foot" },
      el("button", { type: "button", class: "btn", "data-testid": "modal-close",
        onclick: () => closeModal(top) }, close),
      submit ? el("button", { type: "submit", class: "btn primary", "data-testid": "modal-submit" }, submit) : null));
  root.replaceChildren(el("div", { class: "backdrop", "data-testid": "modal",
    "data-view-id": top.id, "data-callback-id": top.callback_id }, form));
}

async function submitModal(view) {
  const form = document.querySelector("#modal-root .modal");
  const values = collectValues(form) || {};
  form.querySelectorAll("[data-testid=modal-field-error]").forEach((n) => { n.textContent = ""; });
  form.querySelector("[data-testid=modal-error]").textContent = "";
  const button = form.querySelector("[data-testid=modal-submit]");
  if (button) button.disabled = true;
  const answer = await api("/api/submit", { user: ui.user, view_id: view.id, values });
  if (button) button.disabled = false;
  const fieldError = (blockId, text) => {
    const node = form.querySelector(`[data-testid=modal-input][data-block-id="${CSS.escape(blockId)}"] [data-testid=modal-field-error]`);
    if (node) node.textContent = text;
  };
  if (!answer.ok) {
    (answer.block_ids || []).forEach((b) => fieldError(b, "Please complete this required field."));
    if (!(answer.block_ids || []).length) {
      form.querySelector("[data-testid=modal-error]").textContent = answer.message || answer.error || "That did not work.";
    }
    return;
  }
  if (answer.response_action === "errors") {
    Object.entries(answer.errors || {}).forEach(([b, text]) => fieldError(b, text));
    return;
  }
  if (answer.error || answer.view_error) {
    form.querySelector("[data-testid=modal-error]").textContent =
      `We had some trouble connecting. Try again? (${answer.error || answer.view_error})`;
    return;
  }
  delete ui.modalValues[view.id];
  poll(true);
}

async function closeModal(view) {
  const answer = await api("/api/close", { user: ui.user, view_id: view.id });
  if (!answer.ok) toast(answer.message || "Could not close the modal.");
  delete ui.modalValues[view.id];
  poll(true);
}

// ------------------------------------------------------------------------------ messages

function renderMessage(message, channelId, options) {
  const ephemeral = message.subtype === "ephemeral";
  const author = message.user || message.bot_id || "";
  const isBot = Boolean(message.bot_id) || author === "USLACKBOT";
  const name = author === "USLACKBOT" ? "Slackbot"
    : (message.bot_profile && message.bot_profile.name) || userName(author);
  const where = { channel: channelId, ts: message.ts };
  const body = el("div", { class: "msg-body" },
    el("div", { class: "msg-meta" },
      el("span", { class: "msg-author", "data-testid": "message-author", text: name }),
      isBot ? el("span", { class: "app-badge", text: "APP" }) : null,
      el("span", { class: "msg-time", text: timeOf(message.ts) }),
      message.edited ? el("span", { class: "msg-edited", text: "(edited)" }) : null));
  if (message.blocks && message.blocks.length) {
    body.append(el("div", { class: "msg-blocks", "data-testid": "message-blocks" },
      renderBlocks(message.blocks, where)));
  } else {
    body.append(el("div", { class: "msg-text mrkdwn", "data-testid": "message-text",
      html: mrkdwn(message.text || "") }));
  }
  for (const attachment of message.attachments || []) {
    body.append(el("div", { class: "attachment", style: `border-color: ${attachment.color && /^#?[0-9a-f]{3,6}$/i.test(attachment.color) ? (attachment.color.startsWith("#") ? attachment.color : `#${attachment.color}`) : "#ddd"}` },
      attachment.blocks ? renderBlocks(attachment.blocks, where)
        : el("div", { class: "mrkdwn", html: mrkdwn(attachment.text || attachment.fallback || "") })));
  }
  if (ephemeral) {
    body.append(el("div", { class: "ephemeral-note", "data-testid": "ephemeral-label" },
      "👁 Only visible to you"));
  }
  const note = ui.clickNotes[message.ts];
  if (note && note.until > Date.now()) {
    body.append(el("div", { class: "click-error", "data-testid": "click-error", text: note.text }));
  }
  const replies = (options && options.replies) || [];
  if (options && options.showThread && replies.length) {
    const people = [...new Set(replies.map((r) => r.user))].slice(0, 3);
    body.append(el("button", { class: "thread-link", "data-testid": "thread-link",
      onclick: () => { ui.thread = message.ts; redrawSoon(); } },
    el("span", { class: "thread-avatars" }, people.map((p) => el("span", { class: "mini-avatar", text: initial(userName(p)) }))),
    `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`));
  }
  return el("div", {
    class: `msg ${ephemeral ? "ephemeral" : ""}`, "data-testid": "message", "data-ts": message.ts,
    "data-user": author, "data-ephemeral": ephemeral ? "true" : "false",
  }, el("div", { class: `avatar ${isBot ? "bot" : ""}`, text: author === "USLACKBOT" ? "✱" : initial(name) }), body);
}

function initial(name) {
  return String(name || "?").charAt(0).toUpperCase();
}

function currentChannel() {
  const channels = (ui.data && ui.data.slack.channels) || [];
  return channels.find((c) => c.id === ui.channel) || null;
}

function notesKey() {
  const now = Date.now();
  return JSON.stringify(Object.entries(ui.clickNotes).filter(([, n]) => n.until > now));
}

function drawMessages() {
  const list = document.getElementById("messages");
  const title = document.getElementById("channel-title");
  const sub = document.getElementById("channel-sub");
  const composer = document.getElementById("composer");
  const home = ui.channel === "home";
  const channel = currentChannel();
  const key = JSON.stringify([ui.channel, ui.user, home ? ui.data.slack.home : channel,
    ui.data.slack.users, notesKey(), [...ui.busy]]);
  if (ui.keys.messages === key) return;
  ui.keys.messages = key;
  // Like Slack: stay at the bottom when there, and after the user sends something follow it
  // (and the replies it brings) down, however far up the list was scrolled.
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 60
    || ui.followUntil > Date.now();
  document.getElementById("composer-form").hidden = home;
  document.getElementById("composer-hint").hidden = home;
  if (home) {
    title.textContent = "promotebot · Home";
    sub.textContent = "The app's Home tab, as promotebot last published it for you";
    const view = ui.data.slack.home;
    list.replaceChildren(view
      ? el("div", { class: "home", "data-testid": "home-view", "data-view-id": view.id },
        renderBlocks(view.blocks, { view_id: view.id }))
      : el("div", { class: "empty", "data-testid": "home-empty",
        text: "promotebot has not published a Home tab for you yet." }));
    return;
  }
  if (!channel) {
    title.textContent = "";
    list.replaceChildren();
    return;
  }
  title.textContent = `# ${channel.name}`;
  sub.textContent = channel.is_member ? "" : "You are not a member of this channel.";
  composer.placeholder = `Message #${channel.name} — or a command: /promote staging`;
  const shown = channel.messages.map((m) => renderMessage(m, channel.id,
    { showThread: true, replies: channel.threads[m.ts] || [] }));
  list.replaceChildren(...(shown.length ? shown
    : [el("div", { class: "empty", text: "No messages yet. Type a command below to start." })]));
  if (stick) list.scrollTop = list.scrollHeight;
}

function drawThread() {
  const pane = document.getElementById("thread");
  const channel = ui.channel === "home" ? null : currentChannel();
  const parent = channel && ui.thread ? channel.messages.find((m) => m.ts === ui.thread) : null;
  const key = JSON.stringify([ui.thread, parent, parent && channel.threads[ui.thread],
    ui.data.slack.users, notesKey()]);
  if (ui.keys.thread === key) return;
  ui.keys.thread = key;
  if (!parent) { pane.hidden = true; return; }
  pane.hidden = false;
  const replies = channel.threads[ui.thread] || [];
  // As the channel: a thread just opened, or read at its bottom, or just replied to, shows the
  // newest reply; one scrolled up by hand stays where it was.
  const box = document.getElementById("thread-messages");
  const opened = ui.threadShown !== ui.thread;
  ui.threadShown = ui.thread;
  const stick = opened || box.scrollHeight - box.scrollTop - box.clientHeight < 60
    || ui.followUntil > Date.now();
  box.replaceChildren(
    renderMessage(parent, channel.id, {}),
    el("div", { class: "thread-count", text: `${replies.length} ${replies.length === 1 ? "reply" : "replies"}` }),
    ...replies.map((m) => renderMessage(m, channel.id, {})));
  if (stick) box.scrollTop = box.scrollHeight;
}

function drawSidebar() {
  const channels = ui.data.slack.channels;
  const key = JSON.stringify([ui.channel, channels.map((c) => [c.id, c.name, c.messages.length])]);
  if (ui.keys.sidebar === key) return;
  ui.keys.sidebar = key;
  document.getElementById("channel-list").replaceChildren(...channels.map((c) => el("li", {},
    el("button", { class: `side-item ${ui.channel === c.id ? "active" : ""}`,
      "data-testid": `channel-${c.name}`, "data-channel-id": c.id,
      onclick: () => selectChannel(c.id) }, el("span", { class: "side-icon", text: "#" }), c.name))));
  document.getElementById("app-home").classList.toggle("active", ui.channel === "home");
}

function drawUsers() {
  const picker = document.getElementById("user-picker");
  const people = ui.data.slack.users.filter((u) => !u.is_bot);
  const key = JSON.stringify([ui.user, people]);
  if (ui.keys.users !== key) {
    ui.keys.users = key;
    picker.replaceChildren(...people.map((u) => el("option", {
      value: u.id, "data-roles": (u.roles || []).join(","),
      text: `${u.name} (${u.real_name})${u.roles && u.roles.length ? ` · ${u.roles.join(", ")}` : ""}`,
    })));
    picker.value = ui.user;
  }
  const status = document.getElementById("bot-status");
  const connected = ui.data.slack.bot_connected;
  status.textContent = connected ? "● promotebot connected" : "○ promotebot not running";
  status.className = `bot-status ${connected ? "on" : "off"}`;
}

// ------------------------------------------------------------------------------ world

function badge(word) {
  const kind = { Ready: "ok", "Not ready": "bad", Reconciling: "wait" }[word] || "wait";
  return el("span", { class: `badge ${kind}`, "data-testid": "env-ready", text: word });
}

function drawEnvs() {
  const envs = ui.data.world.envs;
  const key = JSON.stringify(envs);
  if (ui.keys.envs === key) return;
  ui.keys.envs = key;
  document.getElementById("envs").replaceChildren(...envs.map((env) => {
    const head = env.head || {};
    const flux = env.flux;
    const pods = env.pods;
    const inSync = head.short && flux.revision_short === head.short;
    return el("div", { class: "env", "data-testid": `env-${env.name}`, "data-ready": flux.ready,
      "data-head": head.sha || "", "data-revision": flux.revision_short },
    el("div", { class: "env-top" },
      el("span", { class: "env-name", text: env.name }), badge(flux.word)),
    el("div", { class: "env-line", "data-testid": "env-head" },
      el("span", { class: "k", text: "branch " }),
      el("code", { class: "sha", text: head.short || "—" }), " ", el("span", { class: "subject", text: head.subject || "" })),
    el("div", { class: "env-line" },
      el("span", { "data-testid": "env-image" }, el("span", { class: "k", text: "image " }),
        el("code", { text: env.tag || "—" })),
      el("span", { class: "k", text: " · " }),
      el("span", { "data-testid": "env-revision" }, el("span", { class: "k", text: "Flux applied " }),
        el("code", { class: "sha", text: flux.revision_short || "—" }),
        inSync ? el("span", { class: "sync ok", text: " ✓ in sync" })
          : el("span", { class: "sync wait", text: head.short ? " ⟳ behind the branch" : "" }))),
    el("div", { class: "env-line env-message", "data-testid": "env-message", title: flux.message },
      flux.reason ? el("span", { class: "k", text: `${flux.reason}: ` }) : null, flux.message || "waiting for Flux…"),
    el("div", { class: "env-line", "data-testid": "env-pods" },
      el("span", { class: "k", text: "pods " }), `${pods.ready}/${pods.desired} ready`,
      el("span", { class: "pods" }, pods.items.map((p) => el("span", {
        class: `pod ${p.ready ? "ok" : (p.reason ? "bad" : "wait")}`, "data-testid": "env-pod",
        title: `${p.name} ${p.phase}${p.reason ? ` (${p.reason})` : ""} restarts ${p.restarts}`,
        text: p.ready ? `● ${p.tag}` : `● ${p.tag} ${p.reason || p.phase}`,
      })))));
  }));
}

function drawPulls() {
  const pulls = ui.data.world.pulls;
  const key = JSON.stringify([pulls, [...ui.busy]]);
  if (ui.keys.pulls === key) return;
  ui.keys.pulls = key;
  const root = document.getElementById("pulls");
  if (!pulls.length) {
    root.replaceChildren(el("div", { class: "empty small", "data-testid": "pulls-empty",
      text: "No pull requests yet. /promote staging opens one." }));
    return;
  }
  root.replaceChildren(...pulls.map((pr) => {
    const open = pr.state === "open";
    const busy = (what) => ui.busy.has(`${what}:${pr.number}`) ? true : null;
    return el("div", { class: `pull ${pr.state}`, "data-testid": `pull-${pr.number}`, "data-state": pr.state },
      el("div", { class: "pull-top" },
        el("span", { class: `pr-state ${pr.state}`, "data-testid": "pull-state", text: pr.state }),
        el("span", { class: "pull-title", "data-testid": "pull-title", text: `#${pr.number} ${pr.title}` })),
      el("div", { class: "env-line" }, el("span", { class: "k", text: `${pr.head} → ${pr.base} at ` }),
        el("code", { class: "sha", text: pr.head_short }), el("span", { class: "k", text: ` by ${pr.user}` })),
      el("div", { class: "env-line", "data-testid": "pull-checks" }, el("span", { class: "k", text: "checks " }),
        pr.checks.length ? pr.checks.map((c) => el("span", {
          class: `chip ${c.conclusion === "success" ? "ok" : (c.conclusion ? "bad" : "wait")}`,
          text: `${c.conclusion === "success" ? "✓" : (c.conclusion ? "✗" : "…")} ${c.name} ${c.conclusion || c.status}`,
        })) : el("span", { class: "none", text: "none yet" })),
      el("div", { class: "env-line", "data-testid": "pull-reviews" }, el("span", { class: "k", text: "reviews " }),
        pr.reviews.length ? pr.reviews.map((r) => el("span", {
          class: `chip ${r.state === "APPROVED" ? "ok" : (r.state === "CHANGES_REQUESTED" ? "bad" : "wait")}`,
          text: `${r.state === "APPROVED" ? "✓" : "•"} ${r.user} ${r.state.toLowerCase().replace("_", " ")}`,
        })) : el("span", { class: "none", text: "none yet" })),
      open ? el("div", { class: "action-row" },
        el("button", { class: "btn small primary", "data-testid": "pull-approve", disabled: busy("approve"),
          onclick: () => worldAction("approve", `/api/approve`, { number: pr.number }, `approve:${pr.number}`) },
        "Approve as riley"),
        el("button", { class: "btn small", "data-testid": "pull-check-pass", disabled: busy("check"),
          onclick: () => worldAction("check", "/api/check", { number: pr.number, conclusion: "success" }, `check:${pr.number}`) },
        "✓ CI passes"),
        el("button", { class: "btn small danger-outline", "data-testid": "pull-check-fail", disabled: busy("check"),
          onclick: () => worldAction("check", "/api/check", { number: pr.number, conclusion: "failure" }, `check:${pr.number}`) },
        "✗ CI fails")) : null);
  }));
}

async function worldAction(kind, path, body, key) {
  ui.busy.add(key);
  redrawSoon();
  const answer = await api(path, body);
  ui.busy.delete(key);
  if (!answer.ok) {
    toast(answer.message || "That did not work.");
    logLine(answer.message || "That did not work.", "error");
  } else if (kind === "push") {
    logLine(`Pushed ${answer.short} to dev: ${answer.subject}`);
  } else if (kind === "break") {
    logLine(`Pushed ${answer.short} to dev: image ${answer.tag}, which crashes`);
  } else if (kind === "approve") {
    logLine(`riley approved #${answer.number}`);
  } else if (kind === "check") {
    logLine(`CI check ${answer.name} ${answer.conclusion === "success" ? "passed" : "failed"} on #${answer.number} (${answer.short})`);
  }
  setButtons();
  poll(true);
}

function setButtons() {
  document.getElementById("push-dev").disabled = ui.busy.has("push");
  document.getElementById("break-dev").disabled = ui.busy.has("break");
}

// ------------------------------------------------------------------------------ loop

let pollTimer = null;
let polling = false;
let redrawQueued = false;

function redrawSoon() {
  if (redrawQueued) return;
  redrawQueued = true;
  requestAnimationFrame(() => { redrawQueued = false; draw(); });
}

function draw() {
  if (!ui.data) return;
  drawUsers();
  drawSidebar();
  drawMessages();
  drawThread();
  drawModal();
  drawEnvs();
  drawPulls();
  setButtons();
}

async function poll(now) {
  if (now) {
    clearTimeout(pollTimer);
    if (polling) { pollTimer = setTimeout(() => poll(true), 100); return; }
  }
  if (polling) return;
  polling = true;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), POLL_TIMEOUT_MS);
  try {
    const params = new URLSearchParams({ user: ui.user || "" });
    const response = await fetch(`/api/state?${params}`, { signal: controller.signal, cache: "no-store" });
    const answer = await response.json();
    if (answer.ok) {
      ui.data = answer;
      if (!ui.channel) ui.channel = answer.slack.channels.length ? answer.slack.channels[0].id : "home";
      document.getElementById("offline").hidden = true;
      draw();
    } else if (response.status === 400 && ui.user) {
      ui.user = null;  // an unknown user in the URL: fall back to the first person
      await pickDefaultUser();
    }
  } catch (err) {
    if (err && err.name !== "AbortError" && !(err instanceof TypeError && /fetch/i.test(err.message))) {
      console.error("drawing the page failed", err);
    }
    document.getElementById("offline").hidden = false;
  } finally {
    clearTimeout(timer);
    polling = false;
    clearTimeout(pollTimer);
    pollTimer = setTimeout(() => poll(false), POLL_MS);
  }
}

async function pickDefaultUser() {
  const answer = await api("/api/state?user=");
  const match = /pick one of (.*)$/.exec(answer.message || "");
  const first = match ? match[1].split(", ")[0] : null;
  if (first) setUser(first);
}

function updateUrl() {
  const params = new URLSearchParams(window.location.search);
  params.set("user", ui.user || "");
  if (ui.channel) params.set("channel", ui.channel);
  history.replaceState(null, "", `?${params}`);
}

function setUser(user) {
  ui.user = user;
  ui.keys = {};
  ui.clickNotes = {};
  updateUrl();
  if (ui.channel === "home") api("/api/home_opened", { user }).then(() => poll(true));
  poll(true);
}

function selectChannel(id) {
  ui.channel = id;
  ui.thread = null;
  updateUrl();
  redrawSoon();
}

async function sendComposer(event) {
  event.preventDefault();
  const input = document.getElementById("composer");
  const text = input.value.trim();
  if (!text || ui.channel === "home") return;
  input.value = "";
  followSent();
  const path = text.startsWith("/") ? "/api/command" : "/api/post";
  const answer = await api(path, { user: ui.user, channel: ui.channel, text });
  if (!answer.ok) {
    toast(answer.message || answer.error || "That did not work.");
    input.value = text;
  }
  poll(true);
}

const FOLLOW_MS = 8000;  // how long after a send the list follows what arrives

function followSent() {
  ui.followUntil = Date.now() + FOLLOW_MS;
  const list = document.getElementById("messages");
  list.scrollTop = list.scrollHeight;
}

async function sendThread(event) {
  event.preventDefault();
  const input = document.getElementById("thread-input");
  const text = input.value.trim();
  if (!text || !ui.thread) return;
  input.value = "";
  if (text.startsWith("/")) {
    toast("Slash commands work in the channel's composer, not in threads.");
    input.value = text;
    return;
  }
  ui.followUntil = Date.now() + FOLLOW_MS;
  const answer = await api("/api/post", { user: ui.user, channel: ui.channel, text, thread_ts: ui.thread });
  if (!answer.ok) { toast(answer.message || "That did not work."); input.value = text; }
  poll(true);
}

function start() {
  const params = new URLSearchParams(window.location.search);
  ui.user = params.get("user") || "U0DEV";
  ui.channel = params.get("channel") || null;
  document.getElementById("user-picker").addEventListener("change", (e) => setUser(e.target.value));
  document.getElementById("app-home").addEventListener("click", () => {
    selectChannel("home");
    api("/api/home_opened", { user: ui.user }).then(() => poll(true));
  });
  document.getElementById("composer-form").addEventListener("submit", sendComposer);
  // scrolling up by hand stops following a send at once
  document.getElementById("messages").addEventListener("wheel", (event) => {
    if (event.deltaY < 0) ui.followUntil = 0;
  });
  document.getElementById("thread-form").addEventListener("submit", sendThread);
  document.getElementById("thread-close").addEventListener("click", () => { ui.thread = null; redrawSoon(); });
  document.getElementById("push-dev").addEventListener("click", () => {
    const message = document.getElementById("push-message");
    const body = message.value.trim() ? { message: message.value.trim() } : {};
    message.value = "";
    worldAction("push", "/api/push", body, "push");
  });
  document.getElementById("break-dev").addEventListener("click",
    () => worldAction("break", "/api/break", {}, "break"));
  updateUrl();
  poll(true);
}

document.addEventListener("DOMContentLoaded", start);
