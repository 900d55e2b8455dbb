// The chat page: one WebSocket text frame = one line of tcp_chat's protocol, both ways.
// Server text is only ever put into the page with textContent, never parsed as HTML.
"use strict";

(() => {
  const MAX_BYTES = Number(
    document.querySelector('meta[name="max-message-bytes"]').content) || 4096;
  const MAX_LINES = 1000;  // older lines are removed so a long session stays light
  const KINDS = { "<": "room", "[": "private", "*": "notice", "=": "reply", ">": "ack", "!": "error" };
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const rejoin = document.getElementById("rejoin");
  const encoder = new TextEncoder();
  let ws = null;
  let attempt = 0;
  let timer = null;
  let nick = sessionStorage.getItem("ws_chat.nick");  // per tab: restored after a reconnect

  function show(text, kind) {
    const div = document.createElement("div");
    div.className = "line " + kind;
    div.textContent = text;
    const atBottom = log.parentElement.scrollTop + log.parentElement.clientHeight
      >= log.parentElement.scrollHeight - 4;
    log.appendChild(div);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
    if (atBottom) log.parentElement.scrollTop = log.parentElement.scrollHeight;
  }

  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
    document.body.dataset.state = state;
  }

  function connect() {
    clearTimeout(timer);
    rejoin.hidden = true;
    setStatus("connecting…", "connecting");
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/ws");
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      const line = event.data;
      if (line.startsWith("* welcome ")) {
        attempt = 0;
        const assigned = line.slice(10).split(":")[0];
        setStatus("online as " + assigned, "online");
        if (nick && nick !== assigned) ws.send("/nick " + nick);
      } else if (line.startsWith("= nick ")) {
        nick = line.slice(7);
        sessionStorage.setItem("ws_chat.nick", nick);
        setStatus("online as " + nick, "online");
      } else if (line.startsWith("! chat server")) {
        setStatus("chat server unavailable", "down");
      }
      show(line, KINDS[line[0]] || "room");
    };
    ws.onclose = (event) => {
      ws = null;
      const why = event.code + (event.reason ? " " + event.reason : "");
      if (event.code === 1000) {  // the user left (/quit) or was dropped for idling
        setStatus("left the chat (" + why + ")", "left");
        rejoin.hidden = false;
        return;
      }
      const delay = Math.min(30000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      setStatus("disconnected (" + why + "): retrying in " + Math.ceil(delay / 1000) + " s",
        "down");
      timer = setTimeout(connect, delay);
    };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    if (encoder.encode(text).length > MAX_BYTES) {
      show("! message too long: max " + MAX_BYTES + " bytes (not sent)", "error");
      return;
    }
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      show("! not connected: message not sent", "error");
      return;
    }
    ws.send(text);
    input.value = "";
  });
  rejoin.addEventListener("click", () => { attempt = 0; connect(); });
  connect();
  input.focus();
})();
