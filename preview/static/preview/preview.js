// The local Messenger preview. The customer and the Page Inbox agent act through the
// stand-in's /_standin/ endpoints, which post real signed webhooks to our /webhook; the
// bot's answers are read back from the stand-in (what our app sent over the Send API).
"use strict";

(() => {
  const R = PreviewRender;
  const config = JSON.parse(document.getElementById("preview-config").textContent);
  const $ = (id) => document.getElementById(id);
  const model = PreviewConversation(config);
  const { state, save, restore, localeInfo, messageCount, addEntry, timeline, isTyping, noticeOwner, iceBreakers } = model;
  let rendered = "";
  const inboxName = config.channel === "instagram" ? "Instagram inbox" : "Page Inbox";

  const { control, getJson, sentUrl, ownerUrl, instagramUser, openLink } = PreviewServer(config);
  let linkRef = config.ref; // the web's chat link brought the customer here, once

  function opensLink(shown) {
    const ref = linkRef;
    linkRef = null;
    return customerSays(null, shown, (psid) => openLink(psid, ref));
  }

  async function newConversation(code) {
    const info = localeInfo(code);
    state.psid = `${Date.now()}${Math.floor(Math.random() * 1e6)}`.padEnd(19, "0");
    Object.assign(state, { locale: info.code, owner: undefined, waiting: null });
    state.entries[state.psid] = [];
    state.sent[state.psid] = [];
    save();
    if (config.channel === "instagram") await instagramUser(state.psid, info.name);
    else await control("users", { psid: state.psid, first_name: info.name, last_name: "Preview", locale: info.meta });
    render();
  }

  // --- What the customer and the agent do ------------------------------------------------------

  async function customerSays(body, shown, deliver = (psid) => control("customer_says", { psid, ...body })) {
    const psid = state.psid;
    try {
      await pollConversation(); // so the new line lands after what the bot already sent
      addEntry(psid, { who: shown ? "customer" : "notice", text: shown || "Opened the chat from the web's link." });
      state.waiting = { since: Date.now(), count: messageCount(psid) };
      render();
      await deliver(psid);
    } catch (error) {
      state.waiting = null;
      addEntry(psid, { who: "notice", text: `Not delivered: ${error.message}` });
      render();
    }
  }

  async function sendFile(file) {
    // The stand-in's CDN keeps the bytes; the customer's message carries its URL, as Messenger's does.
    const form = new FormData();
    form.append("file", file);
    try {
      const response = await fetch(`${config.control}/files`, { method: "POST", body: form });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || `files answered ${response.status}`);
      await customerSays({ attachments: [{ type: data.type, payload: { url: data.url } }] }, `📎 ${file.name}`);
    } catch (error) {
      addEntry(state.psid, { who: "notice", text: `File not sent: ${error.message}` });
      render();
    }
  }

  const sayText = (text) => customerSays({ text }, text);
  const quickReply = (payload, title) => customerSays({ text: title, quick_reply: payload }, title);
  const postback = (payload, title) => customerSays({ postback: payload, postback_title: title }, title);

  async function agentReply(psid, text) {
    addEntry(psid, { who: "agent", text });
    render();
    try {
      await control("agent_says", { psid, text });
    } catch (error) {
      addEntry(psid, { who: "notice", text: `Agent reply not sent: ${error.message}` });
    }
    refreshStatus();
  }

  async function agentDone(psid) {
    try {
      await control("agent_done", { psid });
      if (psid === state.psid) state.waiting = { since: Date.now(), count: messageCount(psid) };
    } catch (error) {
      addEntry(psid, { who: "notice", text: `Could not mark as done: ${error.message}` });
    }
    refreshStatus();
  }

  // --- Drawing ---------------------------------------------------------------------------------

  function greeting() {
    const greetings = (state.status && state.status.profile.greeting) || [];
    const meta = localeInfo(state.locale).meta;
    const entry = greetings.find((g) => g.locale === meta) || greetings.find((g) => g.locale === "default");
    return entry ? entry.text : "";
  }

  function itemNode(item) {
    if (item.who === "customer") return R.customerMessage(item.text);
    if (item.who === "agent") return R.pageMessage({ text: item.text }, postback, `Agent · ${inboxName}`);
    if (item.who === "notice") return R.notice(item.text);
    return R.pageMessage(item.message, postback);
  }

  function renderConversation(items, typing) {
    const box = $("conversation");
    if (!items.length && !typing && config.channel === "instagram") {
      box.replaceChildren(R.iceBreakers(iceBreakers(), config.page_name, postback));
      return;
    }
    if (!items.length && !typing) {
      // From the web's chat link (`?ref=`): Messenger's Get Started carries the link's referral.
      const start = linkRef ? () => opensLink("Get Started") : () => postback("GET_STARTED", "Get Started");
      box.replaceChildren(R.welcome(greeting(), localeInfo(state.locale).name, start, config.page_name));
      return;
    }
    box.replaceChildren(...items.map(itemNode));
    if (typing) box.appendChild(R.typing());
  }

  function renderChips(items) {
    const last = items.filter((item) => item.who !== "notice").pop();
    const replies = last && last.who === "bot" ? last.message.quick_replies || [] : [];
    $("quick-replies").replaceChildren(...R.chips(replies, quickReply));
  }

  function renderOwner() {
    const line = $("owner-line");
    if (state.offline) line.textContent = "Disconnected: is python app.py still running?";
    else if (state.owner === config.inbox_app_id) line.textContent = `A person from the team is answering (${inboxName})`;
    else line.textContent = "Bot · replies instantly";
  }

  function render() {
    if (!state.psid) return;
    const items = timeline(state.psid);
    const typing = isTyping();
    const signature = JSON.stringify([state.psid, items, typing, greeting()]);
    if (signature !== rendered) {
      rendered = signature;
      renderConversation(items, typing);
      renderChips(items);
      $("conversation").scrollTop = $("conversation").scrollHeight;
    }
    renderOwner();
  }

  function renderMenu() {
    const menus = (state.status && state.status.profile.persistent_menu) || [];
    const meta = localeInfo(state.locale).meta;
    const menu = menus.find((m) => m.locale === meta) || menus.find((m) => m.locale === "default");
    const items = (menu && menu.call_to_actions) || [];
    const nodes = items.map((item) => {
      if (item.type === "web_url") {
        const link = R.el("a", "menu-item", item.title);
        Object.assign(link, { href: item.url, target: "_blank", rel: "noopener noreferrer" });
        return link;
      }
      const node = R.el("button", "menu-item", item.title);
      node.type = "button";
      node.addEventListener("click", () => {
        $("menu-drawer").hidden = true;
        postback(item.payload, item.title);
      });
      return node;
    });
    if (!nodes.length) nodes.push(R.el("p", "drawer-empty", "No persistent menu: no flow does live_agent, resume_bot, restart or create_ticket."));
    $("menu-items").replaceChildren(...nodes);
  }

  function renderProblems(problems) {
    $("problems").hidden = problems.length === 0;
    $("problem-list").replaceChildren(...problems.map((p) => R.el("li", "", p)));
  }

  function renderLocales() {
    const select = $("locale");
    const codes = state.status.locales.map((l) => l.code);
    if (JSON.stringify([...select.options].map((o) => o.value)) !== JSON.stringify(codes)) {
      select.replaceChildren(...state.status.locales.map((l) => {
        const option = R.el("option", "", `${l.code} (${l.meta})`);
        option.value = l.code;
        return option;
      }));
    }
    select.value = state.locale;
  }

  function inboxLines(psid) {
    const labels = { customer: "Customer", bot: "Bot", agent: "You" };
    return timeline(psid).filter((item) => item.who !== "notice").map((item) => {
      const m = item.message || {};
      const payload = (m.attachment && m.attachment.payload) || {};
      const text = item.text || m.text || payload.text || `[${(m.attachment || {}).type}]`;
      return { who: item.who, label: labels[item.who], text };
    });
  }

  function renderInbox() {
    PreviewInbox.render(state.status.inbox, {
      preferred: state.psid, transcript: inboxLines, reply: agentReply, done: agentDone, refresh: renderInbox,
    });
  }

  // --- Polling ---------------------------------------------------------------------------------

  async function pollConversation() {
    const psid = state.psid;
    const [sent, owner] = await Promise.all([getJson(sentUrl(psid)), getJson(ownerUrl(psid))]);
    if (psid !== state.psid) return;
    const countBefore = (state.sent[psid] || []).length;
    state.sent[psid] = sent.data;
    noticeOwner(owner.owner, countBefore);
  }

  async function refreshStatus() {
    state.status = await getJson(config.status);
    for (const thread of state.status.inbox) {
      if (thread.psid !== state.psid) state.sent[thread.psid] = (await getJson(sentUrl(thread.psid))).data;
    }
    renderProblems(state.status.problems);
    renderLocales();
    renderMenu();
    renderInbox();
    render();
  }

  function every(ms, task) {
    let busy = false;
    setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        await task();
        state.offline = false;
      } catch (error) {
        state.offline = true;
      } finally {
        busy = false;
        render();
      }
    }, ms);
  }

  async function start() {
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("message").value.trim();
      $("message").value = "";
      if (text) sayText(text);
    });
    $("attach").addEventListener("change", (event) => {
      const [file] = event.target.files;
      event.target.value = "";
      if (file) sendFile(file);
    });
    $("menu-button").addEventListener("click", () => { $("menu-drawer").hidden = !$("menu-drawer").hidden; });
    $("new-conversation").addEventListener("click", () => newConversation(state.locale));
    $("locale").addEventListener("change", (event) => newConversation(event.target.value));
    $("account").addEventListener("change", (event) => { window.location.assign(event.target.value); });
    PreviewInbox.bind({ reply: agentReply, done: agentDone });
    state.status = await getJson(config.status);
    const saved = restore();
    if (saved) Object.assign(state, { psid: saved.psid, locale: saved.locale, entries: saved.entries || {} });
    else await newConversation(state.status.default_locale);
    await refreshStatus();
    if (linkRef) {
      window.history.replaceState(null, "", `${window.location.pathname}?account=${encodeURIComponent(config.page_id)}`);
      // An open thread (or Instagram, which has no Get Started) gets the referral right away.
      await pollConversation();
      if (messageCount(state.psid) > 0 || config.channel === "instagram") await opensLink(null);
      else render();
    }
    every(400, async () => { await pollConversation(); });
    every(1000, refreshStatus);
  }

  start();
})();
