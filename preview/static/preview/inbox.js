// The "Page Inbox" pane: threads the stand-in says the Page Inbox owns, the selected
// thread's transcript, a reply box (agent_says) and "Mark as done" (agent_done).
"use strict";

const PreviewInbox = (() => {
  const { el } = PreviewRender;
  const $ = (id) => document.getElementById(id);
  let selected = null;
  let shown = "";

  function pick(threads, preferred) {
    const psids = threads.map((thread) => thread.psid);
    if (selected && psids.includes(selected)) return selected;
    if (psids.includes(preferred)) return preferred;
    return psids[0] || null;
  }

  function threadItem(thread, ctx) {
    const item = el("li", thread.psid === selected ? "thread selected" : "thread");
    item.appendChild(el("div", "thread-name", thread.name));
    const since = new Date(thread.since).toLocaleTimeString();
    item.appendChild(el("div", "thread-meta", `${thread.locale} · waiting since ${since}`));
    item.addEventListener("click", () => {
      selected = thread.psid;
      ctx.refresh();
    });
    return item;
  }

  function transcript(lines) {
    const box = $("agent-transcript");
    box.replaceChildren(...lines.map((line) => {
      const node = el("div", `line ${line.who}`);
      node.appendChild(el("span", "who", line.label));
      node.appendChild(el("span", "what", line.text));
      return node;
    }));
    box.scrollTop = box.scrollHeight;
  }

  // ctx: { preferred, transcript(psid) -> [{who, label, text}], reply(psid, text), done(psid), refresh() }
  function render(threads, ctx) {
    selected = pick(threads, ctx.preferred);
    const thread = threads.find((t) => t.psid === selected);
    const lines = thread ? ctx.transcript(thread.psid) : [];
    const signature = JSON.stringify([threads, selected, lines]);
    if (signature === shown) return;
    shown = signature;
    $("threads").replaceChildren(...threads.map((t) => threadItem(t, ctx)));
    $("inbox-empty").hidden = threads.length > 0;
    $("agent").hidden = !thread;
    if (!thread) return;
    $("agent-title").textContent = `${thread.name} · Messenger`;
    $("agent-summary").textContent = thread.summary ? `Handed over: ${thread.summary}` : "";
    $("agent-summary").hidden = !thread.summary;
    transcript(lines);
  }

  function bind(ctx) {
    $("agent-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("agent-message");
      const text = input.value.trim();
      if (!selected || !text) return;
      input.value = "";
      ctx.reply(selected, text);
    });
    $("mark-done").addEventListener("click", () => {
      if (selected) ctx.done(selected);
    });
  }

  return { render, bind };
})();
