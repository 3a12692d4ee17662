// The navigation's menu button on narrow screens: it opens and closes the side
// navigation. Without this script the navigation simply stays open above the page.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("menu-button");
  const nav = document.getElementById("side-nav");
  if (!button || !nav) return;
  const show = (open) => {
    nav.classList.toggle("open", open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => show(!nav.classList.contains("open")));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) { show(false); button.focus(); }
  });
});
