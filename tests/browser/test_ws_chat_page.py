"""The ws_chat page in headless Chromium: two tabs and one raw TCP member of tcp_chat talk in
every direction, server text is shown as text (never HTML), and a screenshot is kept."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.ws_chat.helpers import TcpPeer, start_stack

RunService = Callable[..., subprocess.Popen[bytes]]
WAIT = 15.0


def _wait(driver: Any, condition: Callable[[Any], object], what: str) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, WAIT).until(condition)
    except TimeoutException:
        log = driver.find_element("id", "log").text[-1500:]
        status = driver.find_element("id", "status").text
        raise AssertionError(f"{what}: not seen; status {status!r}; log:\n{log}") from None


def _log_has(driver: Any, handle: str, text: str) -> None:
    driver.switch_to.window(handle)
    _wait(driver, lambda d: text in d.find_element("id", "log").text.splitlines(), repr(text))


def _say(driver: Any, handle: str, text: str) -> None:
    driver.switch_to.window(handle)
    box = driver.find_element("id", "message")
    box.clear()
    box.send_keys(text)
    driver.find_element("id", "send").click()


def _open(driver: Any, url: str) -> str:
    driver.get(url)
    _wait(driver, lambda d: d.find_element("id", "status").get_attribute("data-state") == "online",
          "online status")
    return driver.current_window_handle


def test_two_pages_and_a_tcp_client_talk_in_every_direction(
    chrome: Any,
    screenshot: Callable[[str], Path],
    run_service: RunService,
    tmp_path: Path,
) -> None:
    stack = start_stack(run_service, tmp_path)
    url = f"http://127.0.0.1:{stack.ws_port}/"
    tcp = TcpPeer(stack.chat_port)

    a = _open(chrome, url)
    _say(chrome, a, "/nick alice")
    _log_has(chrome, a, "= nick alice")
    chrome.switch_to.new_window("tab")
    b = _open(chrome, url)
    b_guest = chrome.find_element("id", "status").text.removeprefix("online as ")
    _say(chrome, b, "/nick bob")
    _log_has(chrome, b, "= nick bob")
    _log_has(chrome, a, f"* {b_guest} is now bob")

    _say(chrome, a, "hello from alice")
    _log_has(chrome, b, "<alice> hello from alice")
    assert tcp.expect("<alice>") == "<alice> hello from alice"

    _say(chrome, b, "hi from bob")
    _log_has(chrome, a, "<bob> hi from bob")
    assert tcp.expect("<bob>") == "<bob> hi from bob"

    tcp.send("hey browsers <b>not bold</b>")
    _log_has(chrome, a, f"<{tcp.nick}> hey browsers <b>not bold</b>")
    _log_has(chrome, b, f"<{tcp.nick}> hey browsers <b>not bold</b>")
    # Shown as text: no element was made from the server's "<b>".
    assert chrome.find_elements("css selector", "#log b") == []

    _say(chrome, b, f"/msg {tcp.nick} psst")
    assert tcp.expect("[bob]") == "[bob] psst"
    _say(chrome, a, "/who")
    _log_has(chrome, a, f"= who 3: alice bob {tcp.nick}")

    chrome.switch_to.window(a)
    path = screenshot("ws_chat_page")
    assert path.stat().st_size > 0


def test_page_says_when_tcp_chat_is_down_and_reconnects(
    chrome: Any,
    screenshot: Callable[[str], Path],
    run_service: RunService,
    tmp_path: Path,
) -> None:
    stack = start_stack(run_service, tmp_path, with_chat=False)
    chrome.get(f"http://127.0.0.1:{stack.ws_port}/")
    _wait(chrome, lambda d: "! chat server unavailable: retrying" in d.find_element("id", "log")
          .text, "the unavailable line")
    _wait(chrome, lambda d: "retrying in" in d.find_element("id", "status").text,
          "the retry status")
    assert chrome.find_element("id", "status").get_attribute("data-state") == "down"
    screenshot("ws_chat_page_down")
    run_service(
        "tcp_chat", "--port", str(stack.chat_port),
        "--heartbeat-file", str(tmp_path / "tcp_chat.alive"),
        wait_port=stack.chat_port,
    )
    # The page's own backoff (1 s, 2 s, 4 s ... with jitter) brings it back.
    _wait(chrome, lambda d: d.find_element("id", "status").get_attribute("data-state")
          == "online", "online after tcp_chat started")
    assert "* welcome guest-" in chrome.find_element("id", "log").text
