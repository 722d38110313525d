"""The bug lab as a learner uses it: JupyterLab in headless Chromium, real clicks; and, under
Google Colab's ipywidgets 7.7.1, classic Notebook 6 (tests/venvs.py's Colab-like venv).

Skipped, with the reason, when Chromium or Playwright is missing; .ci/run installs both.
The server works on a temporary copy of the notebook, so nothing it saves can touch the
committed file, and server and browser are stopped whatever happens.

Nothing here sleeps or trusts a fixed delay: after a click the test waits until the kernel
has handled it (however long it queued behind run-all, up to a ceiling for a loaded machine),
and then the lab must show its result for exactly the controls clicked. If the controls were
not wired to the lab, the kernel would handle the click and nothing would change: the test
fails then, in seconds.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import venvs

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "04-bug-lab.ipynb"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"  # screenshots to look at; ignored by git
# copy it to docs/images/bug-lab.png to refresh the README picture
SCREENSHOT = ARTIFACTS / "bug-lab.png"
WAIT = 120_000  # ms: the longest any single step may take, on a machine busy with other work
DRAW = 10_000   # ms: for the page to draw what the kernel has already sent
# a projector's 1024 x 768 and 1280 x 720, both with JupyterLab's file browser open, and 1024 x 768
# at 150 % zoom (the page lays out in 683 x 512 CSS pixels)
VIEWPORTS = [(1024, 768), (1280, 720), (683, 512)]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update"]


def _missing():
    if not os.path.exists(CHROMIUM):
        return "Chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-test.txt)"
    return None


if _missing() and os.environ.get("CI"):  # CI installs both: there a skip would hide a broken set-up
    pytest.fail(f"browser test cannot run in CI: {_missing()}", pytrace=False)
pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(command, work, env, app="ServerApp"):
    """Start a Jupyter server (jupyter_server's ServerApp, or classic Notebook 6's NotebookApp) on a
    free port with a random token, and wait until it listens: yields (base URL, token); stops it
    whatever happens."""
    port, token = _free_port(), secrets.token_hex(16)
    options = ([f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}"] if app == "ServerApp"
               else [f"--NotebookApp.token={token}", f"--NotebookApp.notebook_dir={work}"])
    server = subprocess.Popen([*map(str, command), "--no-browser", "--allow-root", f"--port={port}",
                               f"--{app}.ip=127.0.0.1", *options],
                              env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"{command[-1]} did not start within 60 s")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    # no news toast over the screenshot; every cell kept in the page (JupyterLab 4 otherwise
    # detaches or skips rendering cells that are scrolled out of view)
    for plugin, values in [("apputils-extension/notification", {"fetchNews": "false"}),
                           ("notebook-extension/tracker", {"windowingMode": "none"})]:
        path = work / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    # settings and workspaces of its own: a layout saved by an earlier session (a wider file browser)
    # must not decide what fits
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"))
    yield from _serve([sys.executable, "-m", "jupyter", "lab", "--LabApp.expose_app_in_browser=True",
                       "--JupyterNotebookApp.expose_app_in_browser=True"], work, env)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _run(page, url, everything):
    """Open the notebook, clear its saved outputs, and run it: every cell, or only the cells up
    to the lab (all the lab needs) and wait until they have run."""
    page.goto(url)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')",
                           timeout=WAIT)
    page.wait_for_selector(".jp-Notebook", timeout=WAIT)
    # run-all issued before the kernel is connected moves through the cells and executes nothing
    page.wait_for_function("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        const k = w && w.sessionContext && w.sessionContext.isReady && w.sessionContext.session
                  && w.sessionContext.session.kernel;
        return k && k.connectionStatus === 'connected' && k.status === 'idle';
    }""", timeout=WAIT)
    page.evaluate(WATCH_KERNEL)
    # clear the saved outputs first, so that everything read below was computed in this browser session
    page.wait_for_function("() => window.jupyterapp.commands.isEnabled('notebook:clear-all-cell-outputs')",
                           timeout=WAIT)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs'); }")
    page.wait_for_function("() => document.querySelectorAll('.widget-toggle-button').length === 0", timeout=WAIT)
    if everything:
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        page.wait_for_selector(".widget-toggle-button", timeout=WAIT)
        return
    page.evaluate("""() => {
        const notebook = window.jupyterapp.shell.currentWidget.content;
        const lab = notebook.widgets.findIndex(c => c.model.type === 'code'
                                                    && c.model.sharedModel.getSource().includes('BugLab('));
        notebook.activeCellIndex = lab + 1;
        window.jupyterapp.commands.execute('notebook:run-all-above');
    }""")
    # those cells have run and the kernel is idle: from now on a click is handled at once
    page.wait_for_function("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        const cells = w.content.widgets.slice(0, w.content.activeCellIndex).filter(c => c.model.type === 'code');
        return cells.every(c => c.model.executionCount !== null)
               && w.sessionContext.session.kernel.status === 'idle';
    }""", timeout=WAIT)
    _result(page)


# Every widget message the page sends the kernel (a click, a new slider value), and the ones the
# kernel has finished handling: its "idle" status names the message it was busy with.
WATCH_KERNEL = """() => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    window.blSent = [];
    window.blDone = new Set();
    window.blMark = 0;
    kernel.anyMessage.connect((_, {msg, direction}) => {
        if (direction === 'send' && msg.header.msg_type === 'comm_msg') window.blSent.push(msg.header.msg_id);
        if (direction === 'recv' && msg.header.msg_type === 'status' && msg.content.execution_state === 'idle')
            window.blDone.add(msg.parent_header.msg_id);
    });
}"""


def _result(page, bugs=(), batch=64, method="sampled", timeout=WAIT):
    """The lab's result for exactly these controls, once the kernel has handled every click
    since the last result (however long they waited in its queue, up to `timeout`). The
    kernel sends what the lab shows before it says it is idle, so by then the result must be
    there, give or take the page drawing it: if it is not, the clicks did not reach the lab."""
    page.wait_for_function("() => window.blSent.slice(window.blMark).every(id => window.blDone.has(id))",
                           timeout=timeout)
    shown = (f".bl-result[data-bugs='{','.join(bugs)}'][data-batch='{batch}'][data-method='{method}']")
    try:
        page.wait_for_function("s => document.querySelector(s) !== null && document.querySelector('.bl-busy') === null",
                               arg=shown, timeout=DRAW)
    except Exception:  # noqa: BLE001 (playwright's TimeoutError; say what it means here)
        now = page.evaluate("() => [...document.querySelectorAll('.bl-result, .bl-busy, .bl-error')]"
                            ".map(e => e.outerHTML.slice(0, 160))")
        pytest.fail(f"the kernel handled the clicks but the lab does not show {bugs}, M = {batch}, "
                    f"{method}; it shows {now}")
    page.evaluate("() => { window.blMark = window.blSent.length; }")
    return page.locator(shown)


def _toggle(page, name):
    page.locator(".widget-toggle-button", has_text=re.compile(rf"^\s*{name}\s*$")).first.click()


def _set_batch(page, m):
    readout = page.locator(".widget-slider .widget-readout").first
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(m))
    page.keyboard.press("Enter")


def _reset(page):
    """No bug on, M = 64: where every test starts, whatever the one before it left."""
    on = page.locator(".widget-toggle-button.mod-active")
    for _ in range(on.count()):  # a click takes the class off at once, in the page
        on.first.click()
    if page.locator(".widget-slider .widget-readout").first.inner_text().strip() != "64":
        _set_batch(page, 64)
    return _result(page)


def _open_lab(browser, url, viewport, everything=False):
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(WAIT)
    _run(page, url, everything)
    return page


@pytest.fixture(scope="module")
def lab_page(jupyter, browser):
    base, token = jupyter
    page = _open_lab(browser, f"{base}/lab/tree/{NOTEBOOK}?token={token}", {"width": 1280, "height": 720},
                     everything=True)
    yield page
    page.close()


def test_bug_lab_in_jupyterlab_responds_to_clicks(lab_page):
    """The first click comes while run-all is still going: it waits in the kernel's queue behind
    the rest of the notebook, and the test waits for its result, however long that takes."""
    from playwright.sync_api import expect

    page = lab_page
    expect(_reset(page).locator(".bl-verdict")).to_have_text("PASS")

    _toggle(page, "shallow_copy")
    shown = _result(page, ["shallow_copy"], timeout=4 * WAIT)
    expect(shown.locator(".bl-difference")).to_have_text("0.3333333")
    expect(shown.locator(".bl-verdict")).to_have_text("FAIL")
    _toggle(page, "shallow_copy")
    expect(_result(page).locator(".bl-verdict")).to_have_text("PASS")

    _toggle(page, "stray_inv_m")
    # (64-1)/(64+1) at the default M = 64
    expect(_result(page, ["stray_inv_m"]).locator(".bl-difference")).to_have_text("0.9692308")
    for m in (8, 2):
        _set_batch(page, m)
        expect(_result(page, ["stray_inv_m"], m).locator(".bl-difference")).to_have_text(f"{(m - 1) / (m + 1):.7f}")
    _set_batch(page, 1)
    expect(_result(page, ["stray_inv_m"], 1).locator(".bl-verdict")).to_have_text("PASS")  # the stray 1/M hides
    _toggle(page, "stray_inv_m")
    _set_batch(page, 64)
    _result(page)

    for name in ("inplace_relu_deriv", "missing_relu_mask", "key_order_mismatch", "missing_inv_m"):
        _toggle(page, name)
        expect(_result(page, [name]).locator(".bl-verdict")).to_have_text("FAIL")
        _toggle(page, name)
        expect(_result(page).locator(".bl-verdict")).to_have_text("PASS")


def test_a_toggle_that_leaves_the_number_alone_still_shows_a_change(lab_page):
    from playwright.sync_api import expect

    page = lab_page
    clean = _reset(page).locator(".bl-difference").inner_text()
    _toggle(page, "inplace_relu_deriv_z")
    shown = _result(page, ["inplace_relu_deriv_z"])
    expect(shown.locator(".bl-difference")).to_have_text(clean)  # the big number does not move...
    expect(shown.locator(".bl-finding")).to_be_visible()          # ...so the finding says what did
    expect(shown.locator(".bl-finding")).to_contain_text("Z1")
    _toggle(page, "inplace_relu_deriv_z")
    _set_batch(page, 16)
    _result(page, [], 16)
    _toggle(page, "stray_inv_m")
    _result(page, ["stray_inv_m"], 16)
    _toggle(page, "missing_inv_m")
    shown = _result(page, ["stray_inv_m", "missing_inv_m"], 16)
    expect(shown.locator(".bl-verdict")).to_have_text("PASS")
    expect(shown.locator(".bl-finding")).to_contain_text("stray_inv_m and missing_inv_m cancel")
    _reset(page)


def test_the_lab_says_computing_before_each_result(lab_page):
    page = lab_page
    _reset(page)
    # every state the output goes through, in order, recorded as the page receives it
    page.evaluate("""() => {
        window.blSeen = [];
        const record = records => { for (const r of records) for (const n of r.addedNodes)
            if (n.nodeType === 1 && n.matches('.bl-busy, .bl-result, .bl-error'))
                window.blSeen.push([n.classList[0], n.dataset.bugs, n.dataset.batch]); };
        window.blWatch = new MutationObserver(record);
        window.blWatch.observe(document.querySelector('.bl-lab'), {childList: true, subtree: true});
    }""")
    _toggle(page, "shallow_copy")
    _result(page, ["shallow_copy"])
    _set_batch(page, 8)
    _result(page, ["shallow_copy"], 8)
    seen = page.evaluate("() => { window.blWatch.disconnect(); return window.blSeen; }")
    assert seen == [["bl-busy", "shallow_copy", "64"], ["bl-result", "shallow_copy", "64"],
                    ["bl-busy", "shallow_copy", "8"], ["bl-result", "shallow_copy", "8"]], seen
    _reset(page)


# What the page shows of a toggle and of the result, without asking the kernel: the toggle's colour
# and icon, and whether the result is for the bug's state on the toggles or says it is not yet.
AT_ONCE = """name => {
    const b = [...document.querySelectorAll('.bl-lab .widget-toggle-button')].find(b => b.textContent.trim() === name);
    const icon = b.querySelector('i');
    const glyph = getComputedStyle(icon && icon.offsetWidth ? icon : b, '::before');
    const shown = document.querySelector('.bl-shown');
    const note = getComputedStyle(shown, '::before').content;
    return {on: b.classList.contains('mod-active'),
            rgb: getComputedStyle(b).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number),
            icon: glyph.content, font: glyph.fontFamily,
            fontReady: document.fonts.check('900 16px ' + glyph.fontFamily),
            current: shown.classList.contains('bl-with-' + name) === b.classList.contains('mod-active'),
            note: note === 'none' ? '' : note, faded: Number(getComputedStyle(shown.firstElementChild).opacity) < 0.5};
}"""


def _busy_kernel(page, seconds, classic=False):
    """Keep the kernel busy with a cell of its own for a while (not a cell of the notebook)."""
    code = f"import time; time.sleep({seconds})"
    if classic:
        page.evaluate("c => Jupyter.notebook.kernel.execute(c)", code)
        page.wait_for_function("() => Jupyter.notebook.kernel_busy")
    else:
        kernel = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        page.evaluate(f"c => {{ {kernel}.requestExecute({{code: c}}); }}", code)
        page.wait_for_function(f"() => {kernel}.status === 'busy'")


def _shows_the_click_at_once(page, name, stale_for_sure):
    """0.8 s after a click on a busy kernel: the toggle says what was clicked (red with a bug icon when
    on, grey without when off) and the result is either for the toggles as they are, or faded under a
    line saying it is not; with stale_for_sure (the kernel cannot have taken the click yet), the latter."""
    page.wait_for_timeout(800)
    now = page.evaluate(AT_ONCE, name)
    red, green, blue = now["rgb"]
    assert (red > 150 and green < 100 and blue < 100) == now["on"], now
    assert (now["icon"] == '"\uf188"' and now["fontReady"]) == now["on"], now  # the glyph of fa-bug, its font loaded
    if stale_for_sure:
        assert not now["current"], now
    if not now["current"]:
        assert "Not computed yet" in now["note"] and now["faded"], now
    return now


def test_a_click_while_the_kernel_is_busy_shows_in_the_page_at_once(lab_page):
    """Run All on stage, or a cell still running: the click waits in the kernel's queue (or, with
    JupyterLab's comms over subshells, runs beside the cell), and the page says so meanwhile."""
    page = lab_page
    _reset(page)
    _busy_kernel(page, 4)
    _toggle(page, "shallow_copy")
    _shows_the_click_at_once(page, "shallow_copy", stale_for_sure=False)
    _result(page, ["shallow_copy"])
    assert page.evaluate(AT_ONCE, "shallow_copy")["current"]
    _busy_kernel(page, 4)
    _toggle(page, "shallow_copy")
    _shows_the_click_at_once(page, "shallow_copy", stale_for_sure=False)
    _result(page)
    _busy_kernel(page, 4)
    page.locator(".bl-lab select").select_option(index=1)  # the fast check
    page.wait_for_timeout(800)
    now = page.evaluate("() => document.querySelector('.bl-shown').dataset.method")
    if now != "fast":
        assert "Not computed yet" in page.evaluate(AT_ONCE, "shallow_copy")["note"]
    _result(page, method="fast")
    page.locator(".bl-lab select").select_option(index=0)
    _result(page)


MEASURE = """() => {
    const lab = document.querySelector('.bl-lab');
    const cell = lab.closest('.jp-OutputArea-output').getBoundingClientRect();
    const box = lab.getBoundingClientRect();
    const problems = [];
    if (box.right > cell.right + 1 || box.left < cell.left - 1)
        problems.push(`the lab spans ${box.left}-${box.right} px, the cell ${cell.left}-${cell.right} px`);
    if (lab.scrollWidth > lab.clientWidth + 1)
        problems.push(`the lab is ${lab.scrollWidth} px wide inside ${lab.clientWidth} px`);
    // every piece of text: inside the cell, and not inside an element that cuts it off
    const clippers = new Set();
    const walk = document.createTreeWalker(lab, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
        const text = walk.currentNode;
        if (!text.textContent.trim() || text.parentElement.closest('select')) continue;
        const range = document.createRange();
        range.selectNodeContents(text);
        for (const r of range.getClientRects())
            if (r.width > 0 && (r.right > cell.right + 1 || r.left < cell.left - 1 || r.right > window.innerWidth))
                problems.push(`"${text.textContent.trim().slice(0, 40)}" spans ${r.left}-${r.right} px`);
        for (let e = text.parentElement; e && e !== lab.parentElement; e = e.parentElement) {
            const style = getComputedStyle(e);
            if ((style.overflowX !== 'visible' || style.textOverflow === 'ellipsis')
                && e.scrollWidth > e.clientWidth + 1 && !clippers.has(e)) {
                clippers.add(e);
                problems.push(`"${text.textContent.trim().slice(0, 40)}" cut off by ${e.className}: ` +
                              `${e.scrollWidth} px in ${e.clientWidth} px`);
            }
        }
    }
    // the chosen check's name must fit its drop-down (a select cuts its text silently)
    const select = lab.querySelector('select');
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = getComputedStyle(select).font;
    const label = select.options[select.selectedIndex].text;
    const need = ctx.measureText(label).width + 28;  // + padding and the arrow
    if (need > select.clientWidth)
        problems.push(`"${label}" needs ${need} px, its drop-down is ${select.clientWidth} px`);
    const track = lab.querySelector('.widget-slider .noUi-target');
    const browser = document.querySelector('#filebrowser');
    return {problems, track: track.getBoundingClientRect().width, lab: [box.left, box.right],
            cell: [cell.left, cell.right],
            fileBrowser: browser ? browser.getBoundingClientRect().width : 0};
}"""

COLOURS = """() => [...document.querySelectorAll('.bl-lab .widget-toggle-button')].map(b => {
    const icon = b.querySelector('i');
    return {name: b.textContent.trim(), on: b.classList.contains('mod-active'),
            rgb: getComputedStyle(b).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number),
            marker: !!icon && icon.getBoundingClientRect().width > 0
                    && getComputedStyle(icon, '::before').content !== 'none'};
})"""


def _on_is_obvious(page):
    """The toggles that are on, each red with a visible marker; those that are off, neither."""
    on = []
    for b in page.evaluate(COLOURS):
        red, green, blue = b["rgb"]
        looks_on = red > 150 and green < 100 and blue < 100 and b["marker"]
        assert looks_on == b["on"], b
        on += [b["name"]] if b["on"] else []
    return on


@pytest.mark.parametrize("width, height", VIEWPORTS)
def test_nothing_is_cut_off_at_projector_widths(lab_page, width, height):
    page = lab_page
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
    page.wait_for_function("() => document.querySelector('#filebrowser').getBoundingClientRect().width > 100")
    _reset(page)
    _toggle(page, "shallow_copy")
    _result(page, ["shallow_copy"])
    assert _on_is_obvious(page) == ["shallow_copy"]
    page.locator(".bl-lab").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"bug-lab-{width}x{height}.png"))
    measured = page.evaluate(MEASURE)
    assert measured["fileBrowser"] > 100, measured
    assert measured["problems"] == [], measured
    assert measured["track"] >= (150 if width >= 1024 else 100), measured  # a slider track a mouse can drag
    if width == 1280:  # the README picture: the whole lab, a bug on
        page.set_viewport_size({"width": width, "height": 1100})
        page.locator(".bl-lab").screenshot(path=str(SCREENSHOT))
    _reset(page)


def test_bug_lab_in_presentation_mode(lab_page):
    from playwright.sync_api import expect

    # RISE slides show only the lab's text summary (its widget manager does not load under
    # ipywidgets 8); JupyterLab's Presentation Mode is what docs/instructors.md recommends instead.
    page = lab_page
    page.set_viewport_size({"width": 1280, "height": 720})
    _reset(page)
    page.evaluate("() => { window.jupyterapp.commands.execute('application:toggle-presentation-mode'); }")
    page.wait_for_function("() => window.jupyterapp.commands.isToggled('application:toggle-presentation-mode')")
    try:
        _toggle(page, "shallow_copy")
        expect(_result(page, ["shallow_copy"]).locator(".bl-difference")).to_have_text("0.3333333")
        assert page.evaluate(MEASURE)["problems"] == []
        page.locator(".bl-lab").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "bug-lab-presentation.png"))
    finally:
        page.evaluate("() => { window.jupyterapp.commands.execute('application:toggle-presentation-mode'); }")


def test_bug_lab_renders_in_notebook_7(jupyter, browser):
    from playwright.sync_api import expect

    base, token = jupyter
    page = _open_lab(browser, f"{base}/notebooks/{NOTEBOOK}?token={token}", {"width": 1024, "height": 768})
    try:
        _toggle(page, "shallow_copy")
        expect(_result(page, ["shallow_copy"]).locator(".bl-difference")).to_have_text("0.3333333")
        assert _on_is_obvious(page) == ["shallow_copy"]
        page.locator(".bl-lab").scroll_into_view_if_needed()
        assert page.evaluate(MEASURE)["problems"] == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "bug-lab-notebook7-1024x768.png"))
    finally:
        page.close()


@pytest.fixture(scope="module")
def notebook_6(tmp_path_factory):
    """Classic Notebook 6 with widgetsnbextension 3 from the Colab-like venv: a front end that renders
    ipywidgets 7.7.1 (JupyterLab 4 renders only 8), with its own empty Jupyter configuration."""
    python, _, _ = venvs.colab()
    work = tmp_path_factory.mktemp("notebook6")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    env = venvs.outside_env(JUPYTER_CONFIG_DIR=str(work / "config"), NNLIB_PROGRESS="0")
    yield from _serve([python, "-m", "notebook"], work, env, app="NotebookApp")


def _shown(page, bugs=(), batch=64):
    """The lab's result for exactly these controls. Notebook 6 gives no hook on the kernel's idle
    message here, so the wait covers the computing too, and the first result also the widget code's
    loading: up to WAIT (a run of .ci/run, with other kernels' tests beside it, once took over 30 s)."""
    shown = f".bl-result[data-bugs='{','.join(bugs)}'][data-batch='{batch}'][data-method='sampled']"
    try:
        page.wait_for_function("s => document.querySelector(s) !== null && document.querySelector('.bl-busy') "
                               "=== null", arg=shown, timeout=WAIT)
    except Exception:  # noqa: BLE001 (playwright's TimeoutError; say what is shown instead)
        now = page.evaluate("() => [...document.querySelectorAll('.bl-result, .bl-busy, .bl-error')]"
                            ".map(e => e.outerHTML.slice(0, 160))")
        pytest.fail(f"after {WAIT / 1000:.0f} s the lab does not show {list(bugs)}, M = {batch}; it shows {now}")
    return page.locator(shown)


def test_bug_lab_clicks_under_ipywidgets_7_in_classic_notebook(notebook_6, browser):
    from playwright.sync_api import expect

    base, token = notebook_6
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    page.set_default_timeout(WAIT)
    try:
        page.goto(f"{base}/notebooks/{NOTEBOOK}?token={token}")
        page.wait_for_function("() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel"
                               " && Jupyter.notebook.kernel.is_connected()")
        # the cells up to the lab and the lab's own (tests/test_package.py runs the whole notebook there)
        page.evaluate("""() => {
            const cells = Jupyter.notebook.get_cells();
            window.blLab = cells.findIndex(c => c.cell_type === 'code' && c.get_text().includes('BugLab('));
            Jupyter.notebook.clear_all_output();
            Jupyter.notebook.execute_cell_range(0, window.blLab + 1);
        }""")
        page.wait_for_function("() => Jupyter.notebook.get_cells().slice(0, window.blLab + 1).every(c =>"
                               " c.cell_type !== 'code' || typeof c.input_prompt_number === 'number')")
        assert page.evaluate("() => document.querySelectorAll('.output_error').length") == 0
        expect(_shown(page).locator(".bl-verdict")).to_have_text("PASS")

        _toggle(page, "shallow_copy")
        shown = _shown(page, ["shallow_copy"])
        expect(shown.locator(".bl-difference")).to_have_text("0.3333333")
        assert _on_is_obvious(page) == ["shallow_copy"]
        sizes = page.evaluate("() => ['.bl-lab .widget-toggle-button', '.bl-difference']"
                              ".map(s => getComputedStyle(document.querySelector(s)).fontSize)")
        assert sizes == ["16px", "34px"]  # the buttons' text as big as under ipywidgets 8, and the number
        page.locator(".bl-lab").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "bug-lab-ipywidgets7-1024x768.png"))
        _toggle(page, "shallow_copy")
        expect(_shown(page).locator(".bl-verdict")).to_have_text("PASS")

        _busy_kernel(page, 4, classic=True)  # Notebook 6 has no subshells: the click waits for the cell
        _toggle(page, "stray_inv_m")
        _shows_the_click_at_once(page, "stray_inv_m", stale_for_sure=True)
        page.locator(".bl-lab").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "bug-lab-ipywidgets7-busy.png"))
        _shown(page, ["stray_inv_m"])
        _toggle(page, "stray_inv_m")
        expect(_shown(page).locator(".bl-verdict")).to_have_text("PASS")

        _toggle(page, "stray_inv_m")
        expect(_shown(page, ["stray_inv_m"]).locator(".bl-difference")).to_have_text("0.9692308")
        _set_batch(page, 8)
        expect(_shown(page, ["stray_inv_m"], 8).locator(".bl-difference")).to_have_text("0.7777778")
    finally:
        page.close()
