// Messenger-like rendering of Send API message bodies: bubbles, button templates,
// generic templates, media, quick-reply chips. Text is always set with textContent.
"use strict";

const PreviewRender = (() => {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function row(side, ...children) {
    const line = el("div", `row ${side}`);
    children.forEach((child) => line.appendChild(child));
    return line;
  }

  // One button of a template: postback (handled by onPostback) or a link.
  function button(spec, onPostback) {
    if (spec.type === "web_url") {
      const link = el("a", "template-button link", spec.title);
      link.href = spec.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    const node = el("button", "template-button postback", spec.title);
    node.type = "button";
    if (spec.type === "postback") {
      node.addEventListener("click", () => onPostback(spec.payload, spec.title));
    } else {
      node.disabled = true;
      node.title = `${spec.type} buttons do nothing in the preview`;
    }
    return node;
  }

  function buttonTemplate(payload, onPostback) {
    const card = el("div", "bubble page template");
    card.appendChild(el("div", "template-text", payload.text));
    (payload.buttons || []).forEach((spec) => card.appendChild(button(spec, onPostback)));
    return card;
  }

  function genericTemplate(payload, onPostback) {
    const strip = el("div", "cards");
    (payload.elements || []).forEach((element) => {
      const card = el("div", "bubble page card");
      if (element.image_url) {
        const image = el("img", "card-image");
        image.src = element.image_url;
        image.alt = "";
        card.appendChild(image);
      }
      card.appendChild(el("div", "card-title", element.title));
      if (element.subtitle) card.appendChild(el("div", "card-subtitle", element.subtitle));
      (element.buttons || []).forEach((spec) => card.appendChild(button(spec, onPostback)));
      strip.appendChild(card);
    });
    return strip;
  }

  function attachment(att, onPostback) {
    const payload = att.payload || {};
    if (att.type === "template" && payload.template_type === "button") {
      return buttonTemplate(payload, onPostback);
    }
    if (att.type === "template" && payload.template_type === "generic") {
      return genericTemplate(payload, onPostback);
    }
    if (att.type === "image" && payload.url) {
      const image = el("img", "bubble page media");
      image.src = payload.url;
      image.alt = "image";
      return image;
    }
    const bubble = el("div", "bubble page");
    const what = att.type === "template" ? `${payload.template_type} template` : att.type;
    if (payload.url) {
      const link = el("a", "", `[${what}] ${payload.url}`);
      link.href = payload.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      bubble.appendChild(link);
    } else {
      bubble.textContent = `[${what}]`;
    }
    return bubble;
  }

  // A message our page sent (bot) or an agent's reply from the Page Inbox.
  function pageMessage(message, onPostback, label) {
    const body = message.attachment
      ? attachment(message.attachment, onPostback)
      : el("div", "bubble page", message.text);
    if (!label) return row("page bot", body);
    const column = el("div", "with-label");
    column.appendChild(el("div", "label", label));
    column.appendChild(body);
    return row("page agent", column);
  }

  function customerMessage(text) {
    return row("customer", el("div", "bubble customer", text));
  }

  function notice(text) {
    return row("notice", el("div", "notice-text", text));
  }

  function typing() {
    const dots = el("div", "bubble page typing");
    dots.setAttribute("aria-label", "typing");
    for (let i = 0; i < 3; i += 1) dots.appendChild(el("span", "dot"));
    return row("page bot", dots);
  }

  function chips(quickReplies, onChoose) {
    return quickReplies.map((reply) => {
      const chip = el("button", "chip", reply.title || reply.content_type);
      chip.type = "button";
      if (reply.content_type === "text") {
        chip.addEventListener("click", () => onChoose(reply.payload, reply.title));
      } else {
        chip.disabled = true;
        chip.title = "shares the customer's email or phone on Messenger";
      }
      return chip;
    });
  }

  // The Messenger welcome screen: the page's greeting and its Get Started button.
  function welcome(greeting, name, onGetStarted, pageName) {
    const card = el("div", "welcome");
    card.appendChild(el("div", "avatar big", "SD"));
    card.appendChild(el("div", "page-name", pageName || "Support Desk"));
    const text = (greeting || "").replaceAll("{{user_first_name}}", name);
    card.appendChild(el("p", "welcome-text", text));
    const start = el("button", "get-started", "Get Started");
    start.type = "button";
    start.addEventListener("click", onGetStarted);
    card.appendChild(start);
    return card;
  }

  // Instagram's welcome: no greeting or Get Started, the account's ice breaker questions.
  function iceBreakers(questions, pageName, onQuestion) {
    const card = el("div", "welcome instagram");
    card.appendChild(el("div", "avatar big", "SD"));
    card.appendChild(el("div", "page-name", pageName || "Support Desk"));
    card.appendChild(el("p", "welcome-text", questions.length ? "Tap a question, or write a message." : "Write a message to start."));
    for (const item of questions) {
      const button = el("button", "ice-breaker", item.question);
      button.type = "button";
      button.addEventListener("click", () => onQuestion(item.payload, item.question));
      card.appendChild(button);
    }
    return card;
  }

  return { el, pageMessage, customerMessage, notice, typing, chips, welcome, iceBreakers };
})();
