"""http_custom in headless Chromium: the index loads its static CSS/JS, a link leads to the
form, and an XSS payload submitted through it comes back as inert text."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

PAYLOAD = ("<img src=x id=injected onerror=\"document.title='pwned'\">"
           "<script>alert('xss')</script>")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def base_url(run_service: Callable[..., subprocess.Popen[bytes]]) -> str:
    port = _free_port()
    run_service("http_custom", "--port", str(port), wait_port=port)
    return f"http://127.0.0.1:{port}"


def test_index_form_and_escaped_echo(chrome: Any, screenshot: Callable[[str], Any],
                                     base_url: str) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chrome, 10)
    chrome.get(base_url + "/")
    assert chrome.title == "http_custom"
    # app.js comes from /static/ and runs under the page's CSP: the static route works
    wait.until(ec.text_to_be_present_in_element((By.ID, "js-status"), "JavaScript loaded"))
    logo_width = chrome.execute_script(
        "const i = document.querySelector('img'); return i.complete ? i.naturalWidth : -1;")
    assert logo_width == 48
    color = chrome.find_element(By.TAG_NAME, "h1").value_of_css_property("color")
    assert color in ("rgba(27, 77, 137, 1)", "rgb(27, 77, 137)")  # style.css applied
    screenshot("http_custom_index")

    chrome.find_element(By.ID, "form-link").click()
    wait.until(ec.url_to_be(base_url + "/form"))
    chrome.find_element(By.ID, "name").send_keys(PAYLOAD)
    chrome.find_element(By.ID, "message").send_keys("line one\n<b>not bold</b>")
    chrome.find_element(By.ID, "send").click()
    wait.until(ec.presence_of_element_located((By.ID, "fields")))

    assert chrome.current_url == base_url + "/submit"
    assert chrome.title == "Received"  # the onerror handler never ran
    with pytest.raises(NoAlertPresentException):
        chrome.switch_to.alert.text  # noqa: B018
    assert chrome.find_elements(By.ID, "injected") == []
    assert chrome.find_elements(By.CSS_SELECTOR, "main script, main b") == []
    values = [e.text for e in chrome.find_elements(By.CSS_SELECTOR, "dd.value")]
    assert values[0] == PAYLOAD
    assert "<b>not bold</b>" in values[1]
    assert chrome.find_element(By.ID, "greeting").text == f"Hello, {PAYLOAD}!"
    screenshot("http_custom_echo")
