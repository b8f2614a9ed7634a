// The console's organization pages, in headless Chromium, after a real Better Auth
// server with `organization()` and the ledger's hooks made an organization through
// the real client: invited, accepted, changed a role, removed a member. An auditor
// reads the members now and at a moment before the removal (by moving the time
// bar), the invitations with their status at each moment, and one invitation's
// trail as sentences with who and when, on the browser's clock (not UTC).
import assert from "node:assert/strict";
import { test } from "node:test";

import { chromium } from "playwright-core";

import { ADMIN, sleep, withStack } from "./harness.mjs";
import { ok } from "./organization-views.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const WAIT = { timeout: 30000 };
/** Screenshots of the pages read, for whoever sets this folder. */
const MORE_SHOTS = process.env.MORE_SCREENSHOTS;
const shot = async (page, name) =>
  MORE_SHOTS && page.screenshot({ path: `${MORE_SHOTS}/${name}.png`, fullPage: true });
/** The browser's time zone: not UTC, so that a time shown in UTC is caught. */
const ZONE = "Asia/Kolkata";

const plain = (text) => text.replace(/\s+/g, " ").trim();
/** `iso` as a reader in ZONE reads it. */
const local = (iso) =>
  plain(
    new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "long", timeZone: ZONE }).format(
      new Date(iso),
    ),
  );

/** What an auditor must never have to read: field names, raw times, ids. */
function readsAsSentences(text, where) {
  assert.doesNotMatch(text, /\b[a-z]+[A-Z][A-Za-z]*\b/, `a camelCase key in the ${where}: ${text}`);
  assert.doesNotMatch(text, /\d{4}-\d\d-\d\dT\d\d:/, `a raw time in the ${where}: ${text}`);
  assert.doesNotMatch(text, /[0-9a-f]{8}-[0-9a-f]{4}-|\b[A-Za-z0-9]{32}\b/, `an id in the ${where}: ${text}`);
}

/** The member rows shown, as `email role status` lines, sorted. */
const memberRows = (page) =>
  page
    .locator("#organization-members .member-row")
    .evaluateAll((rows) =>
      rows.map((r) => `${r.dataset.email} ${r.querySelector(".role").innerText.trim()} ${r.dataset.status}`).sort(),
    );

/** Each invitation's email and the status shown, sorted. */
const invitationRows = (page) =>
  page
    .locator("#organization-invitations .invitation-row")
    .evaluateAll((rows) => rows.map((r) => `${r.dataset.email} ${r.querySelector(".badge").innerText.trim()}`).sort());

/** Waits until `read(page)` gives `wanted`; then compares, to fail with both shown. */
async function shows(page, read, wanted) {
  const deadline = Date.now() + WAIT.timeout;
  let seen;
  while (Date.now() < deadline) {
    seen = await read(page).catch(() => null);
    if (JSON.stringify(seen) === JSON.stringify(wanted)) break;
    await sleep(100);
  }
  assert.deepEqual(seen, wanted);
}

test("the console shows an organization's members over time and an invitation's trail", () =>
  withStack({ organization: true }, async ({ ledger, auth }) => {
    const owner = await auth.admin();
    const people = {};
    for (const name of ["bob", "carol"]) {
      people[name] = auth.browser();
      ok(await people[name].signUp(`${name}@example.com`), `${name} signs up`);
    }
    const org = ok(await owner.client.organization.create({ name: "Acme", slug: "acme" }), "create");
    const organizationId = org.id;
    const invite = (email) => owner.client.organization.inviteMember({ email, role: "member", organizationId });

    const toBob = ok(await invite("bob@example.com"), "invite bob");
    const accepted = ok(await people.bob.client.organization.acceptInvitation({ invitationId: toBob.id }), "accept");
    ok(
      await owner.client.organization.updateMemberRole({ memberId: accepted.member.id, role: "admin", organizationId }),
      "bob becomes admin",
    );
    const toCarol = ok(await invite("carol@example.com"), "invite carol");

    // The moment looked at later: the last event before the removal, as the ledger
    // recorded it (an `as_of` holds to the end of its millisecond); what follows is
    // recorded in a later millisecond.
    const base = `/api/ledger/organizations/${encodeURIComponent(organizationId)}`;
    const before = (await ledger.audit(`${base}/events`)).events.at(-1).recordedAt;
    await sleep(20);
    ok(
      await owner.client.organization.removeMember({ memberIdOrEmail: accepted.member.id, organizationId }),
      "remove bob",
    );
    ok(await people.carol.client.organization.rejectInvitation({ invitationId: toCarol.id }), "carol declines");

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
    try {
      const context = await browser.newContext({ locale: "en-US", timezoneId: ZONE, viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      const problems = [];
      page.on("pageerror", (error) => problems.push(error.message));

      // An auditor signs in with the audit key and opens Organizations from the header.
      await page.goto(`${ledger.url}/console/`);
      await page.fill('input[name="apiKey"]', ledger.auditKey);
      await page.click('button[type="submit"]');
      await page.locator(".top .who").getByText("API key").waitFor(WAIT);
      await page.locator(".top nav").getByText("Organizations").click();
      const row = page.locator(`#organization-list .organization-row[data-id="${organizationId}"]`);
      await row.waitFor(WAIT);
      assert.equal(await row.locator(".members").innerText(), "1");
      assert.equal(await row.locator(".pending").innerText(), "0");

      // Acme now: the owner is a member; Bob's membership ended, marked as removed by the admin.
      await row.getByRole("link", { name: "Acme" }).click();
      await page.locator("#organization-name").getByText("Acme").waitFor(WAIT);
      await shows(page, memberRows, ["admin@example.com owner member", "bob@example.com admin removed"]);
      const bob = page.locator('#organization-members .member-row[data-email="bob@example.com"]');
      assert.match(await bob.getAttribute("class"), /\bended\b/);
      assert.match(plain(await bob.locator(".standing").innerText()), new RegExp(`^removed by ${ADMIN.name}, .*GMT\\+5:30$`));
      assert.match(plain(await bob.innerText()), new RegExp(`invited by ${ADMIN.name} \\(the invitation\\)`));
      await shows(page, invitationRows, ["bob@example.com accepted", "carol@example.com rejected"]);
      const history = plain(await page.locator("#organization-history").innerText());
      assert.match(history, new RegExp(`${ADMIN.name} changed bob's role from member to admin\\.`));
      assert.match(history, new RegExp(`${ADMIN.name} removed bob from the organization\\.`));
      assert.match(history, /carol declined it\./);
      readsAsSentences(history, "organization's history");
      await shot(page, "organization-now");

      // The time bar moved to just before the removal: Bob was a member then, as
      // admin, and Carol's invitation was still pending; the time bar says when.
      await page.locator("#as-of-slider").fill(String(Date.parse(before)));
      await page.locator("#as-of-state").getByText("As of").waitFor(WAIT);
      await shows(page, memberRows, ["admin@example.com owner member", "bob@example.com admin member"]);
      await shows(page, invitationRows, ["bob@example.com accepted", "carol@example.com pending"]);
      assert.equal(new URL(page.url().replace("#", "")).searchParams.get("as_of"), before);
      assert.match(await page.locator("#organization-members").locator("xpath=preceding-sibling::h3[1]").innerText(), /^Members as of .*GMT\+5:30$/);
      assert.doesNotMatch(
        await page.locator("#organization-history").innerText(),
        /removed bob/,
        "the history as of then has no removal yet",
      );
      await shot(page, "organization-before-removal");

      // Bob's invitation's trail, opened from its row at that moment: who invited
      // him, who accepted, the membership it began; each with when, on the reader's clock.
      await page.locator('#organization-invitations .invitation-row[data-email="bob@example.com"] a.open-trail').click();
      await page.locator("#invitation-trail .event").nth(3).waitFor(WAIT);
      const types = await page.locator("#invitation-trail .event").evaluateAll((els) => els.map((e) => e.dataset.type));
      assert.deepEqual(types, ["InvitationAllowed", "InvitationCreated", "InvitationAccepted", "MemberAdded"]);
      const sentences = (await page.locator("#invitation-trail .sentence").allInnerTexts()).map(plain);
      assert.equal(sentences[0], `The ledger's rules and quotas let ${ADMIN.name} invite bob@example.com as member.`);
      assert.match(
        sentences[1],
        new RegExp(`^${ADMIN.name} invited bob@example\\.com as member\\. The invitation runs until \\w{3} \\d+, \\d{4}, .*GMT\\+5:30\\.$`),
      );
      assert.deepEqual(sentences.slice(2), ["bob accepted it.", "bob became a member as member, by accepting the invitation."]);
      const times = page.locator("#invitation-trail .event time");
      for (let i = 0; i < 4; i++) {
        const time = times.nth(i);
        assert.equal(plain(await time.innerText()), local(await time.getAttribute("datetime")));
      }
      assert.match(await times.first().innerText(), /GMT\+5:30/);
      readsAsSentences(await page.locator("#invitation-trail").innerText(), "invitation's trail");
      assert.equal(await page.locator("#invitation-status").innerText(), "accepted");
      await shot(page, "invitation-trail");
      assert.match(plain(await page.locator(".invitation-card").innerText()), new RegExp(`member for bob@example\\.com, from ${ADMIN.name}, sent `));
      // The names link to the people's pages at the same moment.
      const adminRow = await auth.userRow(ADMIN.email);
      const inviter = page.locator("#invitation-trail .event").nth(1).locator("a.person");
      assert.ok((await inviter.getAttribute("href")).includes(encodeURIComponent(adminRow.id)));
      assert.ok((await inviter.getAttribute("href")).includes("as_of="));
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  }));
