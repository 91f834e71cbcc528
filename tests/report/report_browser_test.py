#!/usr/bin/python3
"""`inkgen report` pages in a real browser: Debian's chromium, headless, driven over the DevTools
protocol on a pipe (--remote-debugging-pipe; only the standard library).

    report_browser_test.py --inkgen build/release/bin/inkgen [--keep DIR] [--screenshots DIR]

Makes a synthetic segment, a minimize run on one of its crops with the bundled model and a batch of
two noise jobs, writes their reports, then loads each page: the run page's depth slider is moved
and the label, the images (loaded, not broken) and the profile's marked layer must follow; the
batch page's table must list the jobs, sort on a click and filter on typed text, and link each job
to a page that exists. Screenshots of both pages go to --screenshots when given (samples/ keeps
them). Exits 77 (skipped) when chromium is not installed or does not start.
"""
import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


class Browser:
    """chromium --headless with the DevTools protocol on fds 3 (commands) and 4 (replies)."""

    def __init__(self, exe, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def wire():
            # Copies first: either end may already be fd 3 or 4, and os.pipe's fds close on
            # exec, which dup2 onto themselves would not undo.
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-pipe", "--allow-file-access-from-files",
             f"--user-data-dir={profile}", "--window-size=1280,1600", "about:blank"],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None

    def call(self, method, params=None, timeout=60, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            while b"\0" in self.buffer:
                part, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(part)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            left = deadline - time.time()
            if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                raise TimeoutError(f"{method}: no reply in {timeout} s")
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buffer += chunk

    def open(self, url):
        self.session = None
        target = self.call("Target.createTarget", {"url": url}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        # A new target's first document is about:blank, complete at once: wait for ours.
        self.wait_for(f"decodeURI(location.href) === {json.dumps(url)}"
                      " && document.readyState === 'complete'")

    def js(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, condition, timeout=30):
        deadline = time.time() + timeout
        while not self.js(f"!!({condition})"):
            if time.time() > deadline:
                raise TimeoutError(f"never true: {condition}")
            time.sleep(0.1)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def run(command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def crop_with_ink(segment, size=64):
    """A crop of the synthetic segment whose ink labels cover the most."""
    import numpy as np
    from PIL import Image
    name = os.path.basename(os.path.normpath(segment))
    ink = np.array(Image.open(os.path.join(segment, f"{name}_inklabels.png"))) > 0
    mask = np.array(Image.open(os.path.join(segment, f"{name}_mask.png"))) > 0
    best = None
    for y in range(0, ink.shape[0] - size + 1, size // 2):
        for x in range(0, ink.shape[1] - size + 1, size // 2):
            if mask[y:y + size, x:x + size].all():
                share = ink[y:y + size, x:x + size].mean()
                if best is None or share > best[0]:
                    best = (share, x, y)
    _, x, y = best
    return f"{x},{y},{x + size},{y + size}"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--inkgen", required=True)
    p.add_argument("--keep", help="make the runs here and keep them (default: a temporary folder)")
    p.add_argument("--screenshots", help="write report-run.png and report-batch.png here")
    args = p.parse_args(argv)
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print("chromium is not installed (apt-get install chromium): skipped")
        return SKIP
    inkgen = os.path.abspath(args.inkgen)
    work = args.keep or tempfile.mkdtemp(prefix="inkgen-report-")
    os.makedirs(work, exist_ok=True)
    try:
        segment = os.path.join(work, "seg-2001")
        if not os.path.isdir(segment):
            run([inkgen, "synth", "--out", segment, "--seed", "2001", "-q"])
        crop = crop_with_ink(segment)
        run_dir = os.path.join(work, "minimize-segment")
        run([inkgen, "minimize", "--from", "segment", "--segment", segment, "--crop", crop,
             "--out", run_dir, "--force", "--quiet"])
        jobs = os.path.join(work, "jobs.jsonl")
        with open(jobs, "w") as f:
            f.write('{"mode": "maximize", "source": "noise", "count": 2, "seed": 1, "steps": 3}\n')
        batch_dir = os.path.join(work, "batch")
        subprocess.run([inkgen, "batch", jobs, "--out", batch_dir, "--quiet"], check=True)
        run([inkgen, "report", run_dir])
        run([inkgen, "report", batch_dir])
        start = json.load(open(os.path.join(run_dir, "run.json")))["starts"][0]
        z0 = start["source"]["z0"]
        profile = start["depth_profile"]
        top = profile.index(max(profile))  # where the page's slider starts
        target = 5 if top != 5 else 4

        profile = tempfile.mkdtemp(prefix="inkgen-chromium-")
        browser = Browser(exe, profile)
        try:
            try:
                browser.call("Browser.getVersion", session=False, timeout=60)
            except (TimeoutError, EOFError) as e:
                print(f"chromium did not start ({e}): skipped")
                return SKIP

            # The run page.
            browser.open("file://" + os.path.join(run_dir, "report.html"))
            images = "[...document.images].every(i => i.complete && i.naturalWidth > 0)"
            browser.wait_for(images)
            state = browser.js("({label: document.getElementById('layer').textContent,"
                               " max: Number(document.getElementById('slider').max),"
                               " kinds: [...document.querySelectorAll('#slices img')].map(i => i.alt),"
                               " trace: !!document.querySelector('#trace svg polyline'),"
                               " ticks: [...document.querySelectorAll('.ticks span')].map(s => s.textContent),"
                               " options: document.querySelectorAll('#options tr').length,"
                               " where: (document.getElementById('where') || {}).textContent})")
            check(state["label"].startswith(f"layer {z0 + top} (slice {top + 1} of "),
                  f"first label: {state}")
            check(state["max"] >= 7, f"slider range: {state}")
            check(state["kinds"] == ["start", "result", "diff"], f"slices: {state}")
            check(state["trace"], "no probability trace")
            check(len(state["ticks"]) >= 3 and state["ticks"][0].startswith("-"), f"colour bar: {state}")
            check(state["options"] > 10, f"options table: {state}")
            check(state["where"] and "largest change at layer" in state["where"], f"summary: {state}")
            if args.screenshots:
                os.makedirs(args.screenshots, exist_ok=True)
                browser.screenshot(os.path.join(args.screenshots, "report-run.png"))
            # Move the slider as a person would, by its input event.
            browser.js("(() => { const s = document.getElementById('slider');"
                       f" s.value = {target}; s.dispatchEvent(new Event('input')); }})()")
            browser.wait_for(images)
            moved = browser.js("({label: document.getElementById('layer').textContent,"
                               " diff: document.getElementById('img-diff').src,"
                               " start: document.getElementById('img-start').src,"
                               " marked: [...document.querySelectorAll('#profile rect')]"
                               "   .findIndex(r => r.getAttribute('fill') === '#d33')})")
            check(moved["label"].startswith(f"layer {z0 + target} (slice {target + 1} of "),
                  f"moved label: {moved}")
            check(moved["diff"].endswith(f"/diff/{target:02d}.png"), f"moved diff image: {moved}")
            check(moved["start"].endswith(f"/start/{target:02d}.png"), f"moved start: {moved}")
            check(moved["marked"] == target, f"profile mark: {moved}")

            # The batch page.
            browser.open("file://" + os.path.join(batch_dir, "report.html"))
            rows = "document.querySelectorAll('#rows tr').length"
            check(browser.js(rows) == 2, "batch rows")
            keys = "[...document.querySelectorAll('#rows tr td:nth-child(2)')].map(t => t.textContent)"
            first = browser.js(keys)
            browser.js("document.querySelector('#head th[data-key=key]').click()")
            browser.js("document.querySelector('#head th[data-key=key]').click()")
            check(browser.js(keys) == sorted(first, reverse=True), f"sort: {first}")
            browser.js("(() => { const f = document.getElementById('filter'); f.value = 'seed-1-1';"
                       " f.dispatchEvent(new Event('input')); })()")
            check(browser.js(rows) == 1, "filter")
            link = browser.js("document.querySelector('#rows a').getAttribute('href')")
            check(os.path.isfile(os.path.join(batch_dir, link)), f"job link {link}")
            browser.js("(() => { const f = document.getElementById('filter'); f.value = '';"
                       " f.dispatchEvent(new Event('input')); })()")
            if args.screenshots:
                browser.screenshot(os.path.join(args.screenshots, "report-batch.png"))
            browser.open("file://" + os.path.join(batch_dir, link))
            browser.wait_for(images)
            check(browser.js("document.getElementById('layer').textContent")
                  .startswith("window layer "), "job page")
        finally:
            browser.close()
            shutil.rmtree(profile, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("report pages passed in chromium")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
