// `/docs` in a real browser with every request to anywhere but the server cut
// off: the viewer comes from the binary, reads `/openapi.json` and shows the
// operations. The server is started by `tests/api/docs_offline.rs`, which passes
// its address in DOCS_BASE_URL; the browser is Debian's Chromium.
import assert from "node:assert/strict";
import { test } from "node:test";

import { chromium } from "playwright-core";

const BASE = process.env.DOCS_BASE_URL;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

test("/docs renders the operations with the network cut off", async () => {
  assert.ok(BASE, "DOCS_BASE_URL names the server under test");
  const document = await (await fetch(`${BASE}/openapi.json`)).json();
  // Each operation's title as the page shows it (its summary, whitespace
  // folded, or else its path), and the groups (tags) of the sidebar.
  const titles = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.values(item).map((operation) =>
      (operation.summary ?? path).replace(/\s+/g, " ").slice(0, 40),
    ),
  );
  const tags = [...new Set(Object.values(document.paths).flatMap((item) =>
    Object.values(item).flatMap((operation) => operation.tags ?? [])))];
  assert.ok(titles.length > 10 && tags.length > 1, "the document has operations and groups");

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage();
    const elsewhere = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${BASE}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort("internetdisconnected");
    });
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    // What the page's Content-Security-Policy blocks shows in the console.
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) errors.push(message.text());
    });

    const answer = await page.goto(`${BASE}/docs`, { waitUntil: "load" });
    assert.equal(answer.status(), 200);
    // Once the viewer has run and read the document, the page shows every
    // group and the operations of the open one (the others are folded).
    await page
      .waitForFunction(
        ({ titles, tags }) => {
          const text = document.body.innerText.replace(/\s+/g, " ");
          return (
            tags.every((tag) => text.includes(tag)) &&
            titles.filter((title) => text.includes(title)).length >= 3
          );
        },
        { titles, tags },
        { timeout: 60_000 },
      )
      .catch(async (error) => {
        const text = await page.evaluate(() => document.body.innerText);
        throw new Error(`${error.message}\nthe page shows:\n${text.slice(0, 2000)}`);
      });
    // Scalar's features that would call out to its services are off.
    const controls = await page.evaluate(() =>
      [...document.querySelectorAll("button, a, [role=button]")].map((c) =>
        c.innerText.replace(/\s+/g, " ").trim(),
      ),
    );
    for (const label of ["Ask AI", "Generate SDK", "Generate MCP", "Deploy", "Share"]) {
      assert.ok(
        !controls.some((text) => text.startsWith(label)),
        `a "${label}" control is shown: ${JSON.stringify(controls)}`,
      );
    }
    assert.deepEqual(errors, [], "no script error");
    assert.deepEqual(elsewhere, [], "nothing was asked of any other host");
  } finally {
    await browser.close();
  }
});
