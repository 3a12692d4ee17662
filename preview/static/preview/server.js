// Talking to the preview's server: the stand-in's control endpoints of the account shown
// (a customer speaks, an agent answers), what the bot sent, and Instagram users.
"use strict";

function PreviewServer(config) {
  async function control(path, body) {
    const response = await fetch(`${config.control}/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `${path} answered ${response.status}`);
    return data;
  }

  async function getJson(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  }

  function instagramUser(igsid, name) {
    // Instagram users have a name and a username, no first name or locale.
    const username = `${name.toLowerCase().replace(/[^a-z0-9]/g, "")}.preview`;
    return control("instagram_users", { igsid, name: `${name} Preview`, username });
  }

  async function openLink(psid, ref) {
    // The customer opens the Page's chat link carrying `ref` (the stand-in decides how it arrives).
    const response = await fetch(config.open_link, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ psid, ref }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `open_link answered ${response.status}`);
  }

  const sentUrl = (psid) => `${config.control}/sent/${encodeURIComponent(psid)}`;
  const ownerUrl = (psid) => `${config.control}/owner/${encodeURIComponent(psid)}`;

  return { control, getJson, sentUrl, ownerUrl, instagramUser, openLink };
}
