// The ledger's console, in headless Chromium, after invites made through a real
// Better Auth server with the plugin: an auditor finds who invited whom by the
// Better Auth users' ids (in every person's address) and emails.
import assert from "node:assert/strict";
import { test } from "node:test";

import { chromium } from "playwright-core";

import { ADMIN, eventually, withStack } from "./harness.mjs";
import { privateInviteNewAccount, quickStart } from "./scenarios.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const WAIT = { timeout: 30000 };

const treeEmails = (page) =>
  page.locator("#invitee-tree .tree-node").evaluateAll((nodes) => nodes.map((n) => n.dataset.email).sort());

test("the console shows who invited whom by Better Auth's ids and emails", () =>
  withStack({}, async ({ auth, ledger }) => {
    await quickStart(auth); // test@example.com, from a public invite
    await privateInviteNewAccount(auth); // newcomer@example.com, from a private one
    const admin = await auth.userRow(ADMIN.email);
    const newcomer = await auth.userRow("newcomer@example.com");
    await eventually(async () => (await ledger.uses()).length === 2, 10000, "both uses in the ledger");

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
    try {
      const page = await (await browser.newContext({ locale: "en-US" })).newPage();
      const problems = [];
      page.on("pageerror", (error) => problems.push(error.message));

      // An auditor signs in with the ledger's audit key and looks the admin up by email.
      await page.goto(`${ledger.url}/console/`);
      await page.fill('input[name="apiKey"]', ledger.auditKey);
      await page.click('button[type="submit"]');
      await page.locator(".top .who").getByText("API key").waitFor(WAIT);
      await page.fill('input[name="who"]', ADMIN.email);
      await page.press('input[name="who"]', "Enter");
      await page.locator("#person-name").getByText(ADMIN.email).waitFor(WAIT);
      assert.ok(page.url().includes(`#/people/${encodeURIComponent(admin.id)}`), page.url());

      // The tree below the admin: the two Better Auth users, by email.
      await page.waitForFunction(() => document.querySelectorAll("#invitee-tree .tree-node").length === 3, null, WAIT);
      assert.deepEqual(await treeEmails(page), [ADMIN.email, "newcomer@example.com", "test@example.com"]);
      // The invites the admin sent through the plugin, in sentences.
      await page.locator("#sent-invites li").nth(1).waitFor(WAIT);
      const sent = await page.locator("#sent-invites").innerText();
      assert.match(sent, /invited newcomer@example\.com as admin; used 1 of 1, used up\./);
      assert.match(sent, /a link for anyone as user; used 1 of 1, used up\./);

      // The newcomer's page is at her Better Auth id; her inviter links to the admin's.
      await page.locator('#invitee-tree .tree-node[data-email="newcomer@example.com"]').dblclick();
      await page.locator("#person-name").getByText("newcomer@example.com").waitFor(WAIT);
      assert.ok(page.url().includes(`#/people/${encodeURIComponent(newcomer.id)}`), page.url());
      const inviter = page.locator("#inviter-chain a");
      assert.equal(await inviter.count(), 1);
      assert.ok((await inviter.getAttribute("href")).includes(encodeURIComponent(admin.id)));
      // She signed up as a user and the invite made her an admin: by the admin, through it.
      assert.match(await page.locator("#role-history").innerText(), /Joined with an invite: user → admin\tAdmin\tthe invite/);

      // Her invite's timeline says who invited her, by name or email.
      await page.locator("#role-history a", { hasText: "the invite" }).click();
      await page.locator("#timeline .sentence").nth(2).waitFor(WAIT);
      const sentences = (await page.locator("#timeline .sentence").allInnerTexts()).join("\n");
      assert.match(sentences, new RegExp(`^(${ADMIN.name}|${ADMIN.email}) invited newcomer@example\\.com as admin\\.`, "m"));
      assert.match(sentences, /^(newcomer|newcomer@example\.com) joined as admin with it\.$/m);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  }));
