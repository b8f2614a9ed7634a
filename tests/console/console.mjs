// The admin console as an admin uses it, in headless Chromium (Debian's, driven by
// playwright-core). tests/api/console.rs seeds the server and passes what it made:
//   admin -> Alice -> Bob -> Frank, Alice -> Dave, admin -> Erin; CUT is a moment
//   after Alice and Erin joined and before Bob, Dave and Frank did. Later Dave reset
//   his password and verified his address; the admin banned Frank, then lifted it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through tests/api/console.rs`);
  return value;
};
const URL = env("CONSOLE_URL");
const WAIT = { timeout: 30000 };
/** More screenshots (list, timeline, activity) for whoever sets this folder. */
const MORE_SHOTS = process.env.MORE_SCREENSHOTS;
const shot = async (page, name) =>
  MORE_SHOTS && page.screenshot({ path: `${MORE_SHOTS}/${name}.png`, fullPage: true });

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: env("CHROMIUM"),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
});
after(async () => {
  await browser?.close();
});

/** The browser's time zone: not UTC, so that a time shown in UTC is caught. */
const ZONE = "Asia/Kolkata";

/** A fresh browser page that fails the test on any script error or failed load. */
async function newPage() {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    timezoneId: ZONE,
    locale: "en-US",
  });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  // A refusal's status is the page's to show; Chromium also logs it as
  // "Failed to load resource", which is not a problem of the page.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("request", (r) => {
    if (!r.url().startsWith(new globalThis.URL(URL).origin)) problems.push(`outside: ${r.url()}`);
  });
  return { page, problems };
}

/** What an auditor must never have to read: field names, raw times, log positions, ids. */
function readsAsSentences(text, where) {
  assert.doesNotMatch(text, /\b[a-z]+[A-Z][A-Za-z]*\b/, `a camelCase key in the ${where}: ${text}`);
  assert.doesNotMatch(text, /\d{4}-\d\d-\d\dT\d\d:/, `a raw time in the ${where}: ${text}`);
  assert.doesNotMatch(text, /\d+\/\d+|#\d/, `a log position in the ${where}: ${text}`);
  assert.doesNotMatch(text, /[0-9a-f]{8}-[0-9a-f]{4}-/, `an id in the ${where}: ${text}`);
}

/** `iso` as a reader in ZONE reads it, spaces made plain. */
const local = (iso) =>
  new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "long", timeZone: ZONE })
    .format(new Date(iso))
    .replace(/\s+/g, " ");
const plain = (text) => text.replace(/\s+/g, " ");

const nodeEmails = (page) =>
  page.locator("#invitee-tree .tree-node").evaluateAll((nodes) => nodes.map((n) => n.dataset.email));

test("an admin signs in, filters, reads a timeline and travels in time", async () => {
  const { page, problems } = await newPage();
  await page.goto(URL);

  // Sign in through the form (Better Auth's cookie sign-in).
  await page.fill('input[name="email"]', env("ADMIN_EMAIL"));
  await page.fill('input[name="password"]', env("ADMIN_PASSWORD"));
  await page.click('button[type="submit"]');
  await page.locator(".top .who").getByText(env("ADMIN_EMAIL")).waitFor(WAIT);

  // The list with its status counts: 8 invites, 5 used up, 1 cancelled, 1 open,
  // 1 past its time (worked out from expiresAt whether or not the sweeper wrote it).
  await page.locator("#invite-table .invite-row").nth(7).waitFor(WAIT);
  assert.equal(await page.locator("#invite-table .invite-row").count(), 8);
  const count = (status) => page.locator(`.status-counts [data-status="${status}"] .n`).innerText();
  assert.equal(await count("used_up"), "5");
  assert.equal(await count("cancelled"), "1");
  assert.equal(await count("expired"), "1");
  assert.equal(await count("pending"), "1");

  // Filter: used-up invites only, then the one to Carol.
  await page.selectOption('select[name="status"]', "used_up");
  await page.click('.filters button[type="submit"]');
  await page.waitForFunction(
    () => document.querySelectorAll("#invite-table .invite-row").length === 5,
    null,
    WAIT,
  );
  const statuses = await page.locator("#invite-table .invite-row .badge").allInnerTexts();
  assert.deepEqual(statuses, Array(5).fill("used_up"));
  assert.match(page.url(), /status=used_up/);
  await page.goto(`${URL}#/invites?email=carol%40example.com`);
  await page.waitForFunction(
    () => document.querySelectorAll("#invite-table .invite-row").length === 1,
    null,
    WAIT,
  );
  assert.equal(await page.locator("#invite-table .invite-row .badge").innerText(), "cancelled");
  await page.goto(`${URL}#/invites`);
  await page.locator("#invite-table .invite-row").nth(7).waitFor(WAIT);
  await shot(page, "list");

  // Alice's invite's timeline, opened from the list.
  await page.goto(`${URL}#/invites?email=alice%40example.com`);
  const row = page.locator(`#invite-table .invite-row[data-id="${env("ALICE_INVITE_ID")}"]`);
  await row.locator("a.open-timeline").click();
  await page.locator("#timeline .event").nth(2).waitFor(WAIT);
  const types = await page.locator("#timeline .event").evaluateAll((els) => els.map((e) => e.dataset.type));
  assert.deepEqual(types, ["Created", "Activated", "Used"]);
  assert.equal(await page.locator("#invite-status").innerText(), "used_up");
  // ...told as sentences, with names, on the reader's clock.
  const sentences = await page.locator("#timeline .sentence").allInnerTexts();
  assert.equal(sentences.length, 3);
  assert.match(
    plain(sentences[0]),
    /^Ada Admin invited alice@example\.com as staff\. The invite runs until \w{3} \d+, \d{4}, .+\.$/,
  );
  assert.deepEqual(sentences.slice(1).map(plain), [
    "Someone not signed in opened the invite link.",
    "Alice joined as staff with it.",
  ]);
  assert.match(sentences[0], /GMT\+5:30/, "the expiry in the browser's time zone");
  const created = page.locator("#timeline .event").first().locator("time");
  assert.equal(plain(await created.innerText()), local(await created.getAttribute("datetime")));
  assert.match(await created.innerText(), /GMT\+5:30/);
  readsAsSentences(await page.locator("#timeline").innerText(), "timeline");
  readsAsSentences(await page.locator(".invite-card").innerText(), "invite's card");
  await shot(page, "timeline");

  // The admin's page: the whole tree now...
  await page.locator(".invite-card a").click();
  await page.locator("#invitee-tree").waitFor(WAIT);
  await page.waitForFunction(
    () => document.querySelectorAll("#invitee-tree .tree-node").length === 6,
    null,
    WAIT,
  );
  const now = (await nodeEmails(page)).sort();
  assert.deepEqual(now, [
    "admin@example.com",
    "alice@example.com",
    "bob@example.com",
    "dave@example.com",
    "erin@example.com",
    "frank@example.com",
  ]);
  assert.match(await page.locator("#inviter-chain").innerText(), /root/);
  // The invites the admin sent, each in a line: the one to Carol was cancelled.
  await page.locator("#sent-invites li").nth(4).waitFor(WAIT);
  assert.equal(await page.locator("#sent-invites li").count(), 5);
  const sent = await page.locator("#sent-invites").innerText();
  assert.match(sent, /invited carol@example\.com as user; used 0 of 1, cancelled\./);
  assert.match(sent, /a link for anyone as user; used 0 of 1, still open\./);
  readsAsSentences(sent, "invites sent");

  // Double-clicking Alice opens her page: who invited her, whom she invited, her roles.
  await page.locator('#invitee-tree .tree-node[data-email="alice@example.com"]').dblclick();
  await page.locator("#person-name").getByText("alice@example.com").waitFor(WAIT);
  await page.waitForFunction(
    () => document.querySelectorAll("#invitee-tree .tree-node").length === 4,
    null,
    WAIT,
  );
  assert.match(await page.locator("#inviter-chain").innerText(), /Ada Admin → Alice/);
  const history = await page.locator("#role-history").innerText();
  assert.match(history, /user → staff/);
  // Who gave the role, by name.
  assert.match(history, /Ada Admin/);
  readsAsSentences(history.replace(/GMT\+5:30/g, ""), "role history");
  // Alice sent two links, one used by Bob and one by Dave.
  await page.locator("#sent-invites li").nth(1).waitFor(WAIT);
  assert.equal(await page.locator("#sent-invites li").count(), 2);
  await page.screenshot({ path: env("SCREENSHOT"), fullPage: true });
  await page.goBack();
  await page.locator("#person-name").getByText("admin@example.com").waitFor(WAIT);
  await page.waitForFunction(
    () => document.querySelectorAll("#invitee-tree .tree-node").length === 6,
    null,
    WAIT,
  );

  // ...folding Alice hides her invitees; unfolding shows them again.
  await page.locator('#invitee-tree .tree-node[data-email="alice@example.com"]').click();
  await page.waitForFunction(() => document.querySelectorAll("#invitee-tree .tree-node").length === 3);
  await page.locator('#invitee-tree .tree-node[data-email="alice@example.com"]').click();
  await page.waitForFunction(() => document.querySelectorAll("#invitee-tree .tree-node").length === 6);

  // ...and the tree as it stood at CUT, by moving the time slider there.
  const cut = env("CUT");
  await page.locator("#as-of-slider").fill(String(Date.parse(cut)));
  await page.locator("#as-of-state").getByText("As of").waitFor(WAIT);
  await page.waitForFunction(
    () => document.querySelectorAll("#invitee-tree .tree-node").length === 3,
    null,
    WAIT,
  );
  assert.deepEqual((await nodeEmails(page)).sort(), [
    "admin@example.com",
    "alice@example.com",
    "erin@example.com",
  ]);
  assert.equal(new globalThis.URL(page.url().replace("#", "")).searchParams.get("as_of"), cut);

  // Bob, looked at before he joined: said so, not a near-blank page.
  await page.goto(`${URL}#/people/${env("BOB_ID")}?as_of=${encodeURIComponent(cut)}`);
  const notYet = page.locator("#not-yet");
  await notYet.waitFor(WAIT);
  assert.match(plain(await notYet.innerText()), /^Bob \(bob@example\.com\) had no account yet on .*GMT\+5:30: the ledger recorded it on .*\. See Bob now\.$/);

  // Erin joined with a `user` invite: one row, not "user → user".
  await page.goto(`${URL}#/invites`);
  await page.fill('input[name="who"]', "erin@example.com");
  await page.press('input[name="who"]', "Enter");
  await page.locator("#person-name").getByText("erin@example.com").waitFor(WAIT);
  await page.locator("#role-history tbody tr").first().waitFor(WAIT);
  const erin = await page.locator("#role-history tbody").innerText();
  assert.doesNotMatch(erin, /user → user/);
  assert.equal(await page.locator("#role-history tbody tr").count(), 1, erin);
  assert.match(erin, /Joined as user with an invite\s+Ada Admin/);

  // The same moment carries over to the timeline: Alice's invite was used by then.
  await page.goto(`${URL}#/invites/${env("ALICE_INVITE_ID")}?as_of=${encodeURIComponent(cut)}`);
  await page.locator("#timeline .event").nth(2).waitFor(WAIT);

  // "Live" goes back to now: the tree is whole again.
  await page.goto(`${URL}#/people/${env("ADMIN_ID")}?as_of=${encodeURIComponent(cut)}`);
  await page.waitForFunction(() => document.querySelectorAll("#invitee-tree .tree-node").length === 3, null, WAIT);
  await page.getByRole("button", { name: "Live" }).click();
  await page.waitForFunction(() => document.querySelectorAll("#invitee-tree .tree-node").length === 6, null, WAIT);
  assert.equal(await page.locator("#as-of-state").innerText(), "Live");

  // The chart and the funnel: 8 created, 5 activated, 5 used, on two days.
  await page.locator(".top nav").getByText("Activity").click();
  await page.locator("#funnel").waitFor(WAIT);
  const step = (name) => page.locator(`#funnel [data-step="${name}"] .n`).innerText();
  assert.match(await step("created"), /^8 /);
  assert.match(await step("activated"), /^5 /);
  assert.match(await step("used"), /^5 /);
  await page.locator("#daily-chart canvas").waitFor(WAIT);
  // The chart's axes say what they count.
  assert.equal(await page.locator("#y-axis-title").innerText(), "Invites");
  assert.equal(await page.locator("#x-axis-title").innerText(), "Day (UTC)");
  await shot(page, "activity");

  assert.deepEqual(problems, []);
});

/** Signs in with the API key the server made. */
async function signInWithKey(page) {
  await page.fill('input[name="apiKey"]', env("API_KEY"));
  await page.click('button[type="submit"]');
  await page.locator(".top .who").getByText("API key").waitFor(WAIT);
}

test("an API key pasted in opens the console; a wrong one is refused", async () => {
  const { page, problems } = await newPage();
  await page.goto(URL);
  // The placeholder shows how keys begin.
  assert.match(await page.locator('input[name="apiKey"]').getAttribute("placeholder"), /^ilk_/);
  await page.fill('input[name="apiKey"]', "ilk_not-a-key");
  await page.click('button[type="submit"]');
  await page.locator(".sign-in .error").waitFor(WAIT);
  await signInWithKey(page);
  await page.locator("#invite-table .invite-row").nth(7).waitFor(WAIT);
  assert.deepEqual(problems, []);
});

/** A person's account history: each event's type and its sentence, in order. */
async function accountHistory(page, id, email, count) {
  await page.goto(`${URL}#/people/${id}`);
  await page.locator("#person-name").getByText(email).waitFor(WAIT);
  await page.locator("#person-history .event").nth(count - 1).waitFor(WAIT);
  const events = page.locator("#person-history .event");
  const types = await events.evaluateAll((els) => els.map((e) => e.dataset.type));
  const sentences = (await page.locator("#person-history .sentence").allInnerTexts()).map(plain);
  // Each with when, on the reader's clock.
  for (let i = 0; i < types.length; i++) {
    const time = events.nth(i).locator("time");
    assert.equal(plain(await time.innerText()), local(await time.getAttribute("datetime")));
  }
  readsAsSentences((await page.locator("#person-history").innerText()).replace(/GMT\+5:30/g, ""), "account history");
  return { types, sentences };
}

test("a person's account history tells a password reset, a verified address and a ban", async () => {
  const { page, problems } = await newPage();
  await page.goto(URL);
  await signInWithKey(page);

  // Dave asked for a reset link, set a new password with it (which ended his
  // sessions), and verified his address.
  const dave = await accountHistory(page, env("DAVE_ID"), "dave@example.com", 6);
  assert.deepEqual(dave.types, [
    "Registered",
    "PasswordResetRequested",
    "PasswordSet",
    "SessionsRevoked",
    "VerificationEmailRequested",
    "EmailVerified",
  ]);
  assert.deepEqual(dave.sentences, [
    "Dave signed up as user.",
    "Someone asked for a password reset link for Dave; it was emailed to their address.",
    "Dave set a new password with a reset link.",
    "Dave ended all of their sessions.",
    "A link to verify the email address of Dave was emailed to it.",
    "Dave verified their email address.",
  ]);
  assert.match(await page.locator("#person-history").innerText(), /GMT\+5:30/);

  // The admin banned Frank for a reason, and lifted the ban: by name.
  const frank = await accountHistory(page, env("FRANK_ID"), "frank@example.com", 3);
  const banned = frank.types.indexOf("Banned");
  assert.ok(banned > 0, frank.types.join(", "));
  assert.equal(frank.sentences[banned], "Ada Admin banned Frank for good, giving the reason “spam”.");
  assert.equal(frank.sentences.at(-1), "Ada Admin lifted Frank's ban.");
  assert.equal(frank.types.at(-1), "Unbanned");
  // The names link to the admin's page.
  const admin = page.locator("#person-history .event").last().locator("a.person").first();
  assert.ok((await admin.getAttribute("href")).includes(encodeURIComponent(env("ADMIN_ID"))));
  assert.deepEqual(problems, []);
});
