// The conversation as the preview knows it: the bot's Send API bodies (read back from the
// stand-in), the lines this page said as customer or agent, handover notices, and where
// each goes among the bot's messages. Kept in sessionStorage so a reload keeps it.
"use strict";

function PreviewConversation(config) {
  const STORE = `support-desk-preview:${config.page_id}`; // one conversation per Page and channel
  const WAIT_MS = 10000; // the typing indicator gives up after this long
  const INBOX = config.channel === "instagram" ? "Instagram inbox" : "Page Inbox";

  const state = {
    psid: null,
    locale: null,
    entries: {}, // psid -> what this page said: [{who: customer|agent|notice, text, after}]
    sent: {}, // psid -> the bot's Send API bodies, from the stand-in
    owner: undefined,
    waiting: null, // {since, count}: the customer spoke, the bot has not answered yet
    status: null,
    offline: false,
  };

  function save() {
    const { psid, locale, entries } = state;
    sessionStorage.setItem(STORE, JSON.stringify({ pageId: config.page_id, psid, locale, entries }));
  }

  function restore() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) || "{}");
      return saved.pageId === config.page_id && saved.psid ? saved : null;
    } catch (error) {
      return null;
    }
  }

  function localeInfo(code) {
    const locales = (state.status && state.status.locales) || [];
    return locales.find((l) => l.code === code) || { code, meta: "en_US", name: "Ana" };
  }

  function iceBreakers() {
    // Instagram has no Get Started: its ice breakers (the flows' first menu entries) open the chat.
    const entries = (state.status && state.status.profile.ice_breakers) || [];
    const meta = localeInfo(state.locale).meta;
    const entry = entries.find((e) => e.locale === meta) || entries.find((e) => e.locale === "default");
    return (entry && entry.call_to_actions) || [];
  }

  const messageCount = (psid) => (state.sent[psid] || []).filter((b) => b.message).length;

  function addEntry(psid, entry, after = (state.sent[psid] || []).length) {
    const list = state.entries[psid] || (state.entries[psid] = []);
    list.push({ ...entry, after });
    save();
  }

  // The customer's and agent's lines, placed among the bot's messages in the order they happened.
  function timeline(psid) {
    const bodies = state.sent[psid] || [];
    const locals = state.entries[psid] || [];
    const items = [];
    let next = 0;
    for (let i = 0; i <= bodies.length; i += 1) {
      while (next < locals.length && locals[next].after <= i) items.push(locals[next++]);
      if (i < bodies.length && bodies[i].message) items.push({ who: "bot", message: bodies[i].message });
    }
    return items;
  }

  function isTyping() {
    const bodies = state.sent[state.psid] || [];
    const last = bodies[bodies.length - 1];
    if (last && last.sender_action === "typing_on") return true;
    const w = state.waiting;
    return Boolean(w && messageCount(state.psid) === w.count && Date.now() - w.since < WAIT_MS
      && state.owner !== config.inbox_app_id);
  }

  // A handover notice goes after the bot's last words when it passes the thread, and before
  // its first words when it gets the thread back.
  function noticeOwner(owner, countBefore) {
    const before = state.owner;
    state.owner = owner;
    if (before === undefined || before === owner) return;
    if (owner === config.inbox_app_id) {
      addEntry(state.psid, { who: "notice", text: `The bot passed this conversation to the ${INBOX}.` });
    } else if (before === config.inbox_app_id) {
      const text = `The ${INBOX} gave the conversation back to the bot.`;
      addEntry(state.psid, { who: "notice", text }, countBefore);
    }
  }

  return { state, save, restore, localeInfo, iceBreakers, messageCount, addEntry, timeline, isTyping, noticeOwner };
}
