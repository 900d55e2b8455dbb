// Loaded from /static/ (the pages allow no inline script): shows that JavaScript runs.
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("js-status");
  if (status) {
    status.textContent = "JavaScript loaded from /static/app.js.";
  }
});
