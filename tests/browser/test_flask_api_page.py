"""flask_api's page in headless Chromium: register through the form, fetch the list with the
page's button, see the new user; markup stored in the database is shown as text, not run."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import free_port

PASSWORD = "browser test password"
XSS = '<img src=x onerror="document.title=\'pwned\'">'


def _wait(driver: Any, condition: Callable[[Any], Any], timeout: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_register_then_fetch_users(chrome: Any, screenshot: Callable[[str], Path],
                                   run_service: Callable[..., Any], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    port = free_port()
    db = tmp_path / "browser.db"
    run_service("flask_api", "--port", str(port), env={
        "FLASK_API_DB": str(db), "FLASK_API_BCRYPT_ROUNDS": "4"}, wait_port=port)
    base = f"http://127.0.0.1:{port}"

    chrome.get(base + "/")
    chrome.find_element(By.ID, "username").send_keys("browser_user")
    chrome.find_element(By.ID, "email").send_keys("browser@example.com")
    chrome.find_element(By.ID, "password").send_keys(PASSWORD)
    screenshot("flask_api-form-filled")
    chrome.find_element(By.ID, "register-button").click()
    registered = _wait(chrome, lambda d: d.find_elements(By.ID, "registered"))
    assert registered and chrome.find_element(By.ID, "user-username").text == "browser_user"
    screenshot("flask_api-registered")

    # Markup put in the database around the API must come out as text in the list.
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO users (username, email, password_hash, created_at, updated_at)"
                     " VALUES ('markup', ?, 'x', 't', 't')", (XSS,))

    chrome.back()
    _wait(chrome, lambda d: d.find_elements(By.ID, "fetch-users"))
    chrome.find_element(By.ID, "fetch-users").click()
    items = _wait(chrome, lambda d: [li for li in d.find_elements(By.CSS_SELECTOR, "#users-list li")
                                     if "browser_user" in li.text] and
                  d.find_elements(By.CSS_SELECTOR, "#users-list li"))
    texts = [li.text for li in items]
    assert any("browser_user <browser@example.com>" in t for t in texts), texts
    assert any(XSS in t for t in texts), texts  # shown literally...
    assert chrome.find_elements(By.CSS_SELECTOR, "#users-list img") == []  # ...not parsed
    assert chrome.title != "pwned"
    assert "2 user(s)" in chrome.find_element(By.ID, "users-status").text
    screenshot("flask_api-users-fetched")


def test_form_errors_are_shown_next_to_fields(chrome: Any, screenshot: Callable[[str], Path],
                                              run_service: Callable[..., Any],
                                              tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    port = free_port()
    run_service("flask_api", "--port", str(port), env={
        "FLASK_API_DB": str(tmp_path / "b.db"), "FLASK_API_BCRYPT_ROUNDS": "4"}, wait_port=port)
    chrome.get(f"http://127.0.0.1:{port}/")
    chrome.find_element(By.ID, "username").send_keys("x")
    chrome.find_element(By.ID, "email").send_keys("not-an-email")
    chrome.find_element(By.ID, "password").send_keys("short")
    chrome.find_element(By.ID, "register-button").click()
    errors = _wait(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, ".field-error"))
    assert {e.get_attribute("data-field") for e in errors} == {"username", "email", "password"}
    assert chrome.find_element(By.ID, "email").get_attribute("value") == "not-an-email"
    assert chrome.find_element(By.ID, "password").get_attribute("value") == ""
    screenshot("flask_api-form-errors")
