"""The dashboard as an operator uses it, in headless Chromium driven by Playwright.

Usage: walkthrough.py BASE_URL TOKEN CSV_FILE SCREENSHOT_DIR DOWNLOAD_FILE RINGING_CAMPAIGN_ID

Signs in (a wrong token first), starts and stops RINGING_CAMPAIGN_ID (whose callee rings
until cancelled) from the campaign list and sees its status follow, creates a target list and imports CSV_FILE into it (the
rejected row is shown), creates and starts a campaign, watches its progress reach 100 %
without a reload, checks the dispositions chart and the calls table's filters, downloads the
calls as CSV to DOWNLOAD_FILE, and looks at the agents, queues and trunks. Saves a screenshot
of each page under SCREENSHOT_DIR. Prints one line per step; exits non-zero on the first
failure. Every wait is bounded.
"""

import csv
import os
import re
import sys

from playwright.sync_api import expect, sync_playwright

STEP_MS = 20_000
PROGRESS_MS = 90_000


def step(name):
    print(f"step: {name}", flush=True)


STATS_URL = re.compile(r"/v1\.0/campaigns/([0-9a-f-]{36})/stats$")


def stats_requests(page):
    """(start time in ms, campaign id) of every campaign stats request the page made."""
    entries = page.evaluate(
        "performance.getEntriesByType('resource').map(e => [e.startTime, e.name])"
    )
    found = []
    for start, url in entries:
        m = STATS_URL.search(url)
        if m:
            found.append((start, m.group(1)))
    return sorted(found)


def main():
    base, token, csv_file, shots, download_to, ringing = sys.argv[1:7]
    os.makedirs(shots, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(accept_downloads=True, viewport={"width": 1360, "height": 900})
        context.set_default_timeout(STEP_MS)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on(
            "console",
            lambda m: errors.append(f"console {m.type}: {m.text}")
            if m.type == "error" and "401" not in m.text
            else None,
        )
        # The browser's own record of every request, with its start time.
        context.add_init_script("performance.setResourceTimingBufferSize(100000)")

        step("the root redirects to the dashboard")
        page.goto(base + "/")
        expect(page).to_have_url(base + "/dashboard/")

        step("a wrong token shows the API's error")
        page.fill("#token", "not-a-token")
        page.click("#signin-form button")
        expect(page.locator("#signin-error")).to_contain_text("401: unknown token")
        page.screenshot(path=f"{shots}/signin.png")

        step("sign in")
        page.fill("#token", token)
        page.click("#signin-form button")
        expect(page.locator("#campaigns")).to_be_visible()
        expect(page.locator("#live")).to_have_class("live on")

        step("start and stop a campaign from the list; its status follows")
        row = page.locator(f"#campaigns tr[data-id='{ringing}']")
        expect(row.locator(".status")).to_have_text("stop")
        row.locator("button.start").click()
        expect(row.locator(".status")).to_have_text("run")
        expect(row.locator("button.stop")).to_be_enabled()
        expect(row.locator("td.attempts")).to_have_text("1")
        row.locator("button.stop").click()
        # stopping while its call rings, stop once the dial timeout cancels it
        expect(row.locator(".status")).to_have_text("stop", timeout=STEP_MS)
        expect(row.locator("button.start")).to_be_enabled()

        step("create a list and import the CSV file")
        page.click("a[data-view=new]")
        page.fill("#outdial-name", "dashboard list")
        page.click("#create-outdial")
        expect(page.locator("#outdial")).not_to_have_value("")
        page.set_input_files("#csv-file", csv_file)
        page.click("#import")
        expect(page.locator("#import-created")).to_have_text("5")
        expect(page.locator("#import-invalid")).to_have_text("1")
        expect(page.locator("#rejected tbody tr")).to_have_count(1)
        expect(page.locator("#rejected tbody tr td").nth(1)).to_have_text("12345")
        page.screenshot(path=f"{shots}/import.png", full_page=True)

        step("create the campaign")
        page.fill("#campaign-name", "dashboard campaign")
        page.fill("#dial-timeout", "10")
        expect(page.locator("#own-actions")).to_be_visible()
        page.select_option("#flow", label="flow short call")
        expect(page.locator("#own-actions")).to_be_hidden()
        page.click("#create-campaign")
        page.wait_for_url("**/dashboard/#/campaign/*")
        campaign_id = page.url.rsplit("/", 1)[1]
        expect(page.locator("#campaign-status")).to_have_text("stop")

        step("start it and watch it reach 100 % without a reload")
        page.evaluate("window.__sameDocument = true")
        page.click("button.start")
        expect(page.locator("#campaign-progress")).to_have_attribute("data-progress", "100", timeout=PROGRESS_MS)
        if not page.evaluate("window.__sameDocument === true"):
            raise AssertionError("the page was reloaded")
        expect(page.locator("#kpi-attempts")).to_have_text("5")
        chart = page.locator("#campaign-dispositions")
        expect(chart.locator("text[data-disposition=answered]")).to_have_text("4")
        expect(chart.locator("text[data-disposition=busy]")).to_have_text("1")
        page.screenshot(path=f"{shots}/campaign.png", full_page=True)

        step("the figures are fetched on events, at most once a second, and not polled")
        expect(page.locator("#campaign-status")).to_have_text(re.compile("^(stop|finished)$"))
        page.wait_for_timeout(1500)  # the last event's fetch, at most a second after the one before
        fetched = stats_requests(page)
        page.wait_for_timeout(3000)
        if len(stats_requests(page)) != len(fetched):
            raise AssertionError("stats requested with no event to say they changed: a poll")
        by_campaign = {}
        for when, campaign in stats_requests(page):
            by_campaign.setdefault(campaign, []).append(when)
        for campaign, times in by_campaign.items():
            gaps = [b - a for a, b in zip(times, times[1:])]
            if gaps and min(gaps) < 900:
                raise AssertionError(f"stats of {campaign} fetched {min(gaps):.0f} ms after the fetch before")
        if len(by_campaign.get(campaign_id, [])) < 2:
            raise AssertionError("the campaign's progress came from fewer than two stats requests")

        step("filter the calls")
        expect(page.locator("#calls tbody tr")).to_have_count(5)
        page.select_option("#filter-disposition", "busy")
        page.click("#filters button")
        expect(page.locator("#calls tbody tr")).to_have_count(1)
        expect(page.locator("#calls tbody td.disposition")).to_have_text("busy")
        page.select_option("#filter-disposition", "answered")
        page.click("#filters button")
        expect(page.locator("#calls tbody tr")).to_have_count(4)
        page.fill("#filter-digits", "9")
        page.click("#filters button")
        expect(page.locator("#calls tbody")).to_contain_text("No calls match.")
        page.fill("#filter-digits", "")
        page.select_option("#filter-disposition", "")
        page.click("#filters button")
        expect(page.locator("#calls tbody tr")).to_have_count(5)
        page.screenshot(path=f"{shots}/calls.png", full_page=True)

        step("download the calls as CSV")
        with page.expect_download() as info:
            page.click("#csv")
        info.value.save_as(download_to)
        with open(download_to, newline="") as f:
            rows = list(csv.DictReader(f))
        if len(rows) != 5:
            raise AssertionError(f"{len(rows)} rows in the CSV download")
        dispositions = sorted(r["disposition"] for r in rows)
        if dispositions != ["answered"] * 4 + ["busy"]:
            raise AssertionError(f"dispositions in the CSV: {dispositions}")

        step("the campaign list shows it finished")
        page.click("a[data-view=campaigns]")
        row = page.locator(f"#campaigns tr[data-id='{campaign_id}']")
        expect(row.locator(".progress")).to_have_attribute("data-progress", "100")
        expect(row.locator("td.attempts")).to_have_text("5")
        page.screenshot(path=f"{shots}/campaigns.png", full_page=True)

        step("agents, queues and trunks")
        page.click("a[data-view=agents]")
        expect(page.locator("#agents tbody tr[data-id]")).to_have_count(1)
        expect(page.locator("#agents tbody td.state")).to_have_text("offline")
        expect(page.locator("#agents thead th").nth(4)).to_have_text("Calls handled")
        expect(page.locator("#agents tbody td.handled")).to_have_text("0")
        expect(page.locator("#queues tbody tr[data-id] td.waiting_count")).to_have_text("0")
        expect(page.locator("#trunk-health tbody tr")).to_have_count(1)
        expect(page.locator("#trunk-health tbody td").first).to_have_text("sipp")
        page.screenshot(path=f"{shots}/agents.png", full_page=True)

        if errors:
            raise AssertionError("; ".join(errors))
        browser.close()
    print("dashboard walkthrough passed", flush=True)


if __name__ == "__main__":
    main()
