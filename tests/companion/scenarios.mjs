// Client scenarios that run the same against either invite plugin in the same Better
// Auth server. Each returns a transcript: one entry per client call with what a front
// end sees (status, error code, answer shape, redirect, invite cookie), and the facts
// a test checks afterwards (roles, users). The ledger's tests assert on it; the
// differential compares the two plugins' transcripts.
import { INVITE_COOKIE, PASSWORD } from "./harness.mjs";

/** What a front end sees of one client call. */
async function observe(browser, name, result) {
  const entry = { step: name };
  if (result.error) {
    entry.status = result.error.status;
    entry.code = result.error.code ?? null;
  } else {
    entry.status = 200;
    entry.shape = shapeOf(result.data);
  }
  entry.inviteCookie = Boolean(await browser.cookie(INVITE_COOKIE));
  return { entry, result };
}

/** The answer's shape: its keys (recursively) and the type of each leaf. */
export function shapeOf(value) {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return value.length ? [shapeOf(value[0])] : [];
  if (typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, shapeOf(value[key])]));
  }
  if (typeof value === "string" && value.startsWith("<!doctype html>")) return "html page";
  return typeof value;
}

/** Follows an invitation link as a browser would, without following the redirect. */
async function followLink(browser, url) {
  const response = await browser.fetch(url, { redirect: "manual" });
  const location = response.headers.get("location");
  return {
    step: "follow link",
    status: response.status,
    location: location ? new URL(location, url).pathname + new URL(location, url).search : null,
    inviteCookie: Boolean(await browser.cookie(INVITE_COOKIE)),
  };
}

/** The seed's quick-start: a public invite, activated, then a sign-up. */
export async function quickStart(auth) {
  const transcript = [];
  const admin = await auth.admin();
  const visitor = auth.browser();
  const created = await observe(admin, "create public invite", await admin.client.invite.create({ role: "user", senderResponse: "token" }));
  transcript.push(created.entry);
  const token = created.result.data?.message;
  const activated = await observe(visitor, "activate", await visitor.client.invite.activate({ token }));
  transcript.push({ ...activated.entry, action: activated.result.data?.action, redirectTo: activated.result.data?.redirectTo });
  const signedUp = await observe(visitor, "sign up", await visitor.signUp("test@example.com", "Test User"));
  transcript.push(signedUp.entry);
  const session = await visitor.client.getSession();
  transcript.push({ step: "session", role: session.data?.user?.role ?? null });
  const info = await observe(visitor, "get invite", await visitor.client.invite.get({ query: { token } }));
  transcript.push(info.entry);
  const row = await auth.userRow("test@example.com");
  return { transcript, token, userId: row?.id, role: row?.role, sessionRole: session.data?.user?.role };
}

/** A private invite to someone with no account: the email's link, then a sign-up. */
export async function privateInviteNewAccount(auth, email = "newcomer@example.com") {
  const transcript = [];
  const admin = await auth.admin();
  const created = await observe(admin, "create private invite", await admin.client.invite.create({ role: "admin", email }));
  transcript.push({ ...created.entry, message: created.result.data?.message });
  const [mail] = await auth.emailsTo(email);
  transcript.push({ step: "email", newAccount: mail?.newAccount, role: mail?.role, callback: mail && new URL(mail.url).searchParams.get("callbackURL") });
  const invitee = auth.browser();
  transcript.push(await followLink(invitee, mail.url));
  const signedUp = await observe(invitee, "sign up", await invitee.signUp(email));
  transcript.push(signedUp.entry);
  const session = await invitee.client.getSession();
  transcript.push({ step: "session", role: session.data?.user?.role ?? null });
  const row = await auth.userRow(email);
  return { transcript, userId: row?.id, role: row?.role, sessionRole: session.data?.user?.role };
}

/** A private invite to an existing account: the link, then a sign-in upgrades the role. */
export async function privateInviteExistingAccount(auth, email = "bob@example.com") {
  const transcript = [];
  const bob = auth.browser();
  const first = await observe(bob, "sign up without invite", await bob.signUp(email));
  transcript.push(first.entry);
  await bob.client.signOut();
  const admin = await auth.admin();
  const created = await observe(admin, "create private invite", await admin.client.invite.create({ role: "admin", email }));
  transcript.push({ ...created.entry, message: created.result.data?.message });
  const [mail] = await auth.emailsTo(email);
  transcript.push({ step: "email", newAccount: mail?.newAccount, role: mail?.role, callback: mail && new URL(mail.url).searchParams.get("callbackURL") });
  transcript.push(await followLink(bob, mail.url));
  const signedIn = await observe(bob, "sign in", await bob.signIn(email));
  transcript.push(signedIn.entry);
  const session = await bob.client.getSession();
  transcript.push({ step: "session", role: session.data?.user?.role ?? null });
  const row = await auth.userRow(email);
  return { transcript, userId: row?.id, role: row?.role, sessionRole: session.data?.user?.role };
}

/** A signed-in user activates a public invite: used at once, role upgraded, session too. */
export async function signedInActivation(auth, email = "carol@example.com") {
  const transcript = [];
  const admin = await auth.admin();
  const created = await admin.client.invite.create({ role: "admin", senderResponse: "token" });
  const carol = auth.browser();
  await carol.signUp(email);
  const activated = await observe(carol, "activate signed in", await carol.client.invite.activate({ token: created.data?.message }));
  transcript.push({ ...activated.entry, action: activated.result.data?.action, redirectTo: activated.result.data?.redirectTo });
  const session = await carol.client.getSession();
  transcript.push({ step: "session", role: session.data?.user?.role ?? null });
  const again = await observe(carol, "activate again", await carol.client.invite.activate({ token: created.data?.message }));
  transcript.push(again.entry);
  return { transcript };
}

/** A signed-in user follows an invitation link (a GET), then the front end activates. */
export async function signedInLink(auth, email = "erin@example.com") {
  const transcript = [];
  const admin = await auth.admin();
  const link = (await admin.client.invite.create({ role: "admin", senderResponse: "url" })).data?.message;
  const erin = auth.browser();
  await erin.signUp(email);
  transcript.push(await followLink(erin, link));
  transcript.push({ step: "role after the link", role: (await auth.userRow(email))?.role });
  const activated = await observe(erin, "activate without token", await erin.client.invite.activate({ callbackURL: "/welcome" }));
  transcript.push({ ...activated.entry, action: activated.result.data?.action });
  transcript.push({ step: "role after activate", role: (await auth.userRow(email))?.role });
  return { transcript };
}

/** Refusals a front end meets: unknown token, used up, wrong email, cancel, reject, list. */
export async function refusals(auth) {
  const transcript = [];
  const admin = await auth.admin();
  const visitor = auth.browser();
  const unknown = await observe(visitor, "activate unknown token", await visitor.client.invite.activate({ token: "NoSuchToken0000000000000" }));
  transcript.push(unknown.entry);
  const getUnknown = await observe(visitor, "get unknown token", await visitor.client.invite.get({ query: { token: "NoSuchToken0000000000000" } }));
  transcript.push(getUnknown.entry);

  const once = (await admin.client.invite.create({ role: "user", senderResponse: "token", maxUses: 1 })).data?.message;
  const first = auth.browser();
  await first.client.invite.activate({ token: once });
  await first.signUp("first@example.com");
  const late = auth.browser();
  const usedUp = await observe(late, "activate used-up invite", await late.client.invite.activate({ token: once }));
  transcript.push(usedUp.entry);

  const cancellable = (await admin.client.invite.create({ role: "user", senderResponse: "token" })).data?.message;
  const notMine = await observe(first, "cancel someone else's invite", await first.client.invite.cancel({ token: cancellable }));
  transcript.push(notMine.entry);
  const cancelled = await observe(admin, "cancel own invite", await admin.client.invite.cancel({ token: cancellable }));
  transcript.push({ ...cancelled.entry, message: cancelled.result.data?.message });
  const afterCancel = await observe(visitor, "activate cancelled invite", await visitor.client.invite.activate({ token: cancellable }));
  transcript.push(afterCancel.entry);

  await admin.client.invite.create({ role: "user", email: "dave@example.com" });
  const [mail] = await auth.emailsTo("dave@example.com");
  const dave = auth.browser();
  await dave.signUp("dave@example.com");
  const notTheirs = await observe(first, "get someone else's private invite", await first.client.invite.get({ query: { token: mail.token } }));
  transcript.push(notTheirs.entry);
  const theirs = await observe(dave, "get own private invite", await dave.client.invite.get({ query: { token: mail.token } }));
  transcript.push({ ...theirs.entry, role: theirs.result.data?.invitation?.role, email: theirs.result.data?.invitation?.email });
  const rejected = await observe(dave, "reject private invite", await dave.client.invite.reject({ token: mail.token }));
  transcript.push({ ...rejected.entry, message: rejected.result.data?.message });
  const publicReject = await observe(dave, "reject public invite", await dave.client.invite.reject({ token: once }));
  transcript.push(publicReject.entry);

  const listed = await observe(admin, "list invites", await admin.client.invite.list({ query: {} }));
  transcript.push({ ...listed.entry, total: listed.result.data?.total });
  const visitorList = await observe(visitor, "list invites signed out", await visitor.client.invite.list({ query: {} }));
  transcript.push(visitorList.entry);
  const anonymousCreate = await observe(visitor, "create signed out", await visitor.client.invite.create({ role: "user" }));
  transcript.push(anonymousCreate.entry);
  return { transcript };
}

/** Self-escalation: a plain user invites to admin, then uses the invite with a second account. */
export async function selfEscalation(auth) {
  const transcript = [];
  const mallory = auth.browser();
  await mallory.signUp("mallory@example.com");
  const created = await observe(mallory, "user creates admin invite", await mallory.client.invite.create({ role: "admin", senderResponse: "token" }));
  transcript.push(created.entry);
  const token = created.result.data?.message;
  if (token) {
    const sock = auth.browser();
    await sock.client.invite.activate({ token });
    await sock.signUp("sock@example.com");
    transcript.push({ step: "second account's role", role: (await auth.userRow("sock@example.com"))?.role });
  }
  return { transcript };
}

/** Two visitors hold a one-use invite; the second signs up after the first took it. */
export async function spentInviteSignUp(auth) {
  const transcript = [];
  const admin = await auth.admin();
  const token = (await admin.client.invite.create({ role: "admin", senderResponse: "token", maxUses: 1 })).data?.message;
  const first = auth.browser();
  const second = auth.browser();
  await first.client.invite.activate({ token });
  await second.client.invite.activate({ token });
  const took = await observe(first, "first sign-up", await first.signUp("first@example.com"));
  transcript.push(took.entry);
  const late = await observe(second, "second sign-up", await second.signUp("second@example.com"));
  transcript.push({ ...late.entry, invite: late.result.data?.invite ?? null });
  const row = await auth.userRow("second@example.com");
  transcript.push({ step: "second user's row", exists: Boolean(row), role: row?.role ?? null });
  return { transcript };
}

/** A sign-up with no invite at all. */
export async function signUpWithoutInvite(auth, email = "walkin@example.com") {
  const visitor = auth.browser();
  const signedUp = await observe(visitor, "sign up without invite", await visitor.signUp(email));
  return { transcript: [signedUp.entry], row: await auth.userRow(email), result: signedUp.result };
}

export const PASSWORD_FOR_TESTS = PASSWORD;
