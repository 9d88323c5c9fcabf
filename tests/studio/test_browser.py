"""The studio page in a real headless Chromium (Selenium and the system chromedriver).

One test walks the page as a user would: sample, render and play, load two
corpus examples, interpolate, move the slider, render through GANSynth; it
checks the console for errors and saves a screenshot under tmp_path.
"""

import os
import shutil
import socket
import threading
import time

import pytest

pytestmark = pytest.mark.slow  # starts a browser and loads three models

pytest.importorskip("fastapi", reason="the studio extra is not installed")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             "/usr/bin/chromium") if p and os.path.isfile(p)), None)
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if os.path.isfile("/usr/bin/chromedriver") else None)
WAIT_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The studio on a free port of 127.0.0.1, in a thread; yields its address."""
    import uvicorn

    from gensuite.studio.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(work_dir=tmp_path / "work"), host="127.0.0.1",
                            port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the studio did not start in 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def browser():
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("Chromium or chromedriver is not installed (Debian: apt install chromium "
                    "chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,900", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait_for(driver, condition, what: str, timeout: float = WAIT_S):
    """Poll ``condition(driver)`` until truthy; fail with the page's status line."""
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)
    except Exception:
        status = driver.find_element("id", "status").text
        pytest.fail(f"{what}: not seen in {timeout} s (status line: {status!r})")


def status_says(text):
    return lambda d: text in d.find_element("id", "status").text


def audio_playable(driver):
    return driver.execute_script(
        "const a = document.getElementById('player');"
        "return a.getAttribute('src') && a.readyState >= 1 && a.duration > 0;")


def click(driver, element_id):
    driver.find_element("id", element_id).click()


def test_sample_render_interpolate_in_chromium(server, browser, tmp_path):
    from selenium.webdriver.support.ui import Select

    browser.get(server)
    wait_for(browser, status_says("ready"), "models and examples listed")

    click(browser, "sample")
    wait_for(browser, status_says("sampling: done"), "samples")
    notes = browser.find_elements("css selector", "#roll svg rect.note")
    assert notes, "the piano roll shows no notes"
    click(browser, "render")
    wait_for(browser, audio_playable, "a playable soundfont render")

    examples = Select(browser.find_element("id", "example"))
    for index in (0, 2):  # a chorale and a folk tune
        examples.select_by_index(index)
        click(browser, "load-example")
        wait_for(browser, status_says("loading the example: done"), "an example clip")
    Select(browser.find_element("id", "interp-mode")).select_by_value("steps")
    click(browser, "interpolate")
    wait_for(browser, status_says("interpolating: done"), "an interpolation")
    label = browser.find_element("id", "item-label").text
    assert label.startswith("step 0 (A)"), label
    slider = browser.find_element("id", "item-slider")
    from selenium.webdriver.common.keys import Keys

    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert browser.find_element("id", "item-label").text.startswith("step 2"), \
        "the slider did not move to step 2"
    Select(browser.find_element("id", "render-synth")).select_by_value("gansynth")
    click(browser, "render")
    wait_for(browser, audio_playable, "a playable GANSynth render")
    assert "_gansynth_" in browser.find_element("id", "player").get_attribute("src")
    browser.execute_script("document.getElementById('player').currentTime = 1.0;")
    wait_for(browser, lambda d: float(d.find_element("id", "playhead").get_attribute("x1")) > 0,
             "the playhead following the audio", timeout=10)

    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe
    assert browser.save_screenshot(str(tmp_path / "studio.png"))
