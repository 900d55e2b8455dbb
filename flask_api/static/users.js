// Fetch /api/users and show it. Text goes in with textContent, never innerHTML, so a username
// or email holding markup is shown as text and cannot run script (the course's page used
// innerHTML on the JSON).
"use strict";

async function fetchUsers() {
  const list = document.getElementById("users-list");
  const status = document.getElementById("users-status");
  status.textContent = "Loading…";
  try {
    const response = await fetch("/api/users?per_page=100", { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) {
      status.textContent = `Error ${response.status}: ${body.message || body.error}`;
      return;
    }
    list.replaceChildren();
    for (const user of body.users) {
      const item = document.createElement("li");
      item.className = "user";
      item.dataset.id = String(user.id);
      item.textContent = `#${user.id} ${user.username} <${user.email}>`;
      list.appendChild(item);
    }
    status.textContent = `${body.total} user(s); showing ${body.users.length}.`;
  } catch (err) {
    status.textContent = `Request failed: ${err}`;
  }
}

document.getElementById("fetch-users").addEventListener("click", fetchUsers);
