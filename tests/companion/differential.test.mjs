// The same client scenarios against better-invite 0.5.7 and against
// @invite-ledger/better-auth, in the same Better Auth server configuration, and
// against the invite-ledger binary alone (the standalone auth server). Every
// difference a front end can see (status, error code, answer shape, redirect, invite
// cookie, resulting role) is either absent or listed below with its reason, and the
// README lists the same (the package's README for the plugin, the README's "The
// plugin (`better-invite` 0.5.7) and where we differ" for the binary).
import assert from "node:assert/strict";
import { test } from "node:test";

import { withStack } from "./harness.mjs";
import * as scenarios from "./scenarios.mjs";
import { withStandalone } from "./standalone.mjs";

const SCENARIOS = [
  "quickStart",
  "privateInviteNewAccount",
  "privateInviteExistingAccount",
  "signedInActivation",
  "refusals",
  "selfEscalation",
  "signUpWithoutInvite",
  "spentInviteSignUp",
  "signedInLink",
];

const NOT_REUSED = "the ledger's rules: a person uses an invite once; a second activation is refused";
const CANCELLED = "a cancelled invite is closed: better-invite still activates it for a visitor";
const NO_ESCALATION =
  "the ledger's role policy: no one invites to a role above their own (better-invite's canCreateInvite defaults to true)";

/** scenario / step / field -> why the ledger's plugin answers otherwise (the README lists the same). */
export const KNOWN_DIFFERENCES = {
  "quickStart / get invite / shape.invitation":
    "the ledger says more about the invite (status, uses, usesLeft, maxUses, expiry, inviter); better-invite's fields are all there",
  "privateInviteNewAccount / follow link / location":
    "the link goes to its callbackURL (sign-up for a new account); better-invite ignores it and goes to sign-in",
  "signedInActivation / activate again / status": NOT_REUSED,
  "signedInActivation / activate again / code": NOT_REUSED,
  "signedInActivation / activate again / shape": NOT_REUSED,
  "refusals / activate cancelled invite / status": CANCELLED,
  "refusals / activate cancelled invite / code": CANCELLED,
  "refusals / activate cancelled invite / shape": CANCELLED,
  "refusals / activate cancelled invite / inviteCookie": CANCELLED,
  "refusals / list invites signed out / inviteCookie": `no cookie left by the refused activation above (${CANCELLED})`,
  "refusals / create signed out / inviteCookie": `no cookie left by the refused activation above (${CANCELLED})`,
  "refusals / get own private invite / shape.invitation":
    "the ledger says more about the invite; better-invite's fields are all there",
  "refusals / get own private invite / email":
    "the invitee sees the invite's email in `email` too; better-invite keeps it only in `emails` (its `email` is deprecated and null)",
  "refusals / list invites / shape.invitations":
    "the ledger's invite fields beside better-invite's; no token (the ledger keeps only hashes), no infinityMaxUses",
  ...Object.fromEntries(
    ["status", "code", "shape", "invite", "inviteCookie"].map((field) => [
      `spentInviteSignUp / second sign-up / ${field}`,
      "better-invite creates the user, then answers 400 NO_USES_LEFT_FOR_INVITE (and keeps the cookie); the ledger's plugin answers the sign-up it made, with `invite: {used: false, code, message}`, and drops the spent invite",
    ]),
  ),
  ...Object.fromEntries(
    [
      "follow link / location",
      "follow link / inviteCookie",
      "role after the link / role",
      "activate without token / status",
      "activate without token / code",
      "activate without token / shape",
      "activate without token / action",
      "activate without token / inviteCookie",
    ].map((step) => [
      `signedInLink / ${step}`,
      "a GET link never changes a role (a mail scanner may follow it): it sets the cookie and goes to its callbackURL; `POST /invite/activate` without a token then uses the cookie's invite (better-invite uses the invite on the GET, and its activate needs a token)",
    ]),
  ),
  "selfEscalation / user creates admin invite / status": NO_ESCALATION,
  "selfEscalation / user creates admin invite / code": NO_ESCALATION,
  "selfEscalation / user creates admin invite / shape": NO_ESCALATION,
  "selfEscalation / second account's role / role": NO_ESCALATION,
  "selfEscalation / second account's role / missing": NO_ESCALATION,
};

const INVITE_ID = "the answer names the invite's `inviteId` too (for `invite/cancel` and `invite/resend` by id: the ledger keeps no token)";
const SIGN_UP_PAGE =
  "a visitor is sent to the invite's sign-up page (its `senderResponseRedirect`, `signUp` unless set; the seeds' flow); better-invite sends a visitor without `callbackURL` to `defaultRedirectToSignIn` and ignores a link's `callbackURL`";
const SEE_OTHER = "the link answers 303 See Other where Better Auth answers 302: a browser follows a GET link alike";
const JSON_REDIRECT =
  "a sign-up or sign-in that used an invite answers Better Auth's JSON (`redirect: true`, `url` = the after-upgrade page, `token`, `user`) and the invite's outcome in `invite`; better-invite answers a 302 to that page, which the client follows (its `data` is the page)";
const REDIRECT_FIELD = "the sign-up answer carries `redirect` (false without an invite) as Better Auth's sign-in answer does";
const PRIVATE_GET =
  "`invite/get` answers anyone holding a private invite's token (the token travels only in the invitee's email; the sign-up page shows the role before an account exists); better-invite answers only the signed-in invitee";

/** Each field of `step` whose answer shape is the same JSON-instead-of-a-redirect difference. */
const jsonRedirect = (step) =>
  Object.fromEntries(["shape", "shape.invite", "shape.redirect", "shape.token", "shape.url", "shape.user"].map((field) => [`${step} / ${field}`, JSON_REDIRECT]));

/** scenario / step / field -> why the binary alone answers otherwise (the README's list says the same). */
export const KNOWN_STANDALONE_DIFFERENCES = {
  "quickStart / create public invite / shape.inviteId": INVITE_ID,
  "privateInviteNewAccount / create private invite / shape.inviteId": INVITE_ID,
  "privateInviteExistingAccount / create private invite / shape.inviteId": INVITE_ID,
  "quickStart / activate / redirectTo": SIGN_UP_PAGE,
  "privateInviteNewAccount / follow link / location": SIGN_UP_PAGE,
  "privateInviteNewAccount / follow link / status": SEE_OTHER,
  "privateInviteExistingAccount / follow link / status": SEE_OTHER,
  "signedInLink / follow link / status": SEE_OTHER,
  ...jsonRedirect("quickStart / sign up"),
  ...jsonRedirect("privateInviteNewAccount / sign up"),
  ...jsonRedirect("privateInviteExistingAccount / sign in"),
  ...jsonRedirect("spentInviteSignUp / first sign-up"),
  "privateInviteExistingAccount / sign up without invite / shape.redirect": REDIRECT_FIELD,
  "signUpWithoutInvite / sign up without invite / shape.redirect": REDIRECT_FIELD,
  "quickStart / get invite / shape.invitation": KNOWN_DIFFERENCES["quickStart / get invite / shape.invitation"],
  "refusals / get own private invite / shape.invitation": KNOWN_DIFFERENCES["refusals / get own private invite / shape.invitation"],
  "refusals / get own private invite / email": KNOWN_DIFFERENCES["refusals / get own private invite / email"],
  "refusals / list invites / shape.invitations": KNOWN_DIFFERENCES["refusals / list invites / shape.invitations"],
  ...Object.fromEntries(
    ["status", "code", "shape"].map((field) => [`refusals / get someone else's private invite / ${field}`, PRIVATE_GET]),
  ),
  ...Object.fromEntries(
    Object.entries(KNOWN_DIFFERENCES).filter(([key]) =>
      ["signedInActivation / activate again", "refusals / activate cancelled invite", "refusals / list invites signed out", "refusals / create signed out", "selfEscalation /", "signedInLink /", "spentInviteSignUp / second sign-up"].some((prefix) => key.startsWith(prefix)),
    ),
  ),
  "spentInviteSignUp / second sign-up / shape": KNOWN_DIFFERENCES["spentInviteSignUp / second sign-up / shape"],
};

/** Fields two levels deep at most: `shape.invitation` stands for all that lies below it. */
const flatten = (value, prefix = "", depth = 0) =>
  value && typeof value === "object" && !Array.isArray(value) && depth < 2
    ? Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key, depth + 1))
    : [[prefix, JSON.stringify(value)]];

/** Differences between two transcripts, step by step (steps are matched by name). */
function differences(scenario, reference, ours) {
  const found = [];
  const steps = [...new Set([...reference.map((e) => e.step), ...ours.map((e) => e.step)])];
  for (const step of steps) {
    const a = Object.fromEntries(flatten(reference.find((e) => e.step === step) ?? { missing: true }));
    const b = Object.fromEntries(flatten(ours.find((e) => e.step === step) ?? { missing: true }));
    for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (field === "step" || a[field] === b[field]) continue;
      found.push({ key: `${scenario} / ${step} / ${field}`, betterInvite: a[field] ?? "(absent)", ledger: b[field] ?? "(absent)" });
    }
  }
  return found;
}

/** The reason `known` lists for a difference: its own, or that of a field above it (`shape` covers `shape.x`). */
function reasonFor(known, key) {
  for (let k = key; ; k = k.slice(0, k.lastIndexOf("."))) {
    if (known[k]) return known[k];
    if (!k.slice(k.lastIndexOf(" / ")).includes(".")) return null;
  }
}

async function transcriptOf(plugin, scenario) {
  return withStack({ plugin }, async ({ auth }) => (await scenarios[scenario](auth)).transcript);
}

/** better-invite's transcripts, made once for both comparisons. */
const references = new Map();
async function referenceOf(scenario) {
  if (!references.has(scenario)) references.set(scenario, await transcriptOf("better-invite", scenario));
  return references.get(scenario);
}

/** Compares `side`'s transcript of every scenario with better-invite's; fails on a difference `known` does not list. */
async function compareWithBetterInvite(name, known, side) {
  const all = [];
  for (const scenario of SCENARIOS) {
    all.push(...differences(scenario, await referenceOf(scenario), await side(scenario)));
  }
  const report = all.map((d) => `- ${d.key}: better-invite ${d.betterInvite}, ${name} ${d.ledger}${reasonFor(known, d.key) ? ` (${reasonFor(known, d.key)})` : " (UNLISTED)"}`);
  console.log(`Differences of ${name} from better-invite 0.5.7 (${all.length}):\n${report.join("\n")}`);
  const unlisted = all.filter((d) => !reasonFor(known, d.key));
  assert.deepEqual(unlisted, [], "every difference is listed with its reason");
}

test("the differential: every difference from better-invite is listed with its reason", async () => {
  await compareWithBetterInvite("the ledger's plugin", KNOWN_DIFFERENCES, (scenario) => transcriptOf("ledger", scenario));
});

test("the differential, standalone: every difference of the binary alone from better-invite is listed with its reason", async () => {
  await compareWithBetterInvite("the standalone server", KNOWN_STANDALONE_DIFFERENCES, (scenario) =>
    withStandalone({}, async ({ auth }) => (await scenarios[scenario](auth)).transcript),
  );
});
