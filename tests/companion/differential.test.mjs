// The same client scenarios against better-invite 0.5.7 and against
// @invite-ledger/better-auth, in the same Better Auth server configuration. Every
// difference a front end can see (status, error code, answer shape, redirect, invite
// cookie, resulting role) is either absent or listed below with its reason, and the
// README's "What differs from better-invite" lists the same.
import assert from "node:assert/strict";
import { test } from "node:test";

import { withStack } from "./harness.mjs";
import * as scenarios from "./scenarios.mjs";

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

/** The reason listed for a difference: its own, or that of a field above it (`shape` covers `shape.x`). */
function reasonFor(key) {
  for (let k = key; ; k = k.slice(0, k.lastIndexOf("."))) {
    if (KNOWN_DIFFERENCES[k]) return KNOWN_DIFFERENCES[k];
    if (!k.slice(k.lastIndexOf(" / ")).includes(".")) return null;
  }
}

async function transcriptOf(plugin, scenario) {
  return withStack({ plugin }, async ({ auth }) => (await scenarios[scenario](auth)).transcript);
}

test("the differential: every difference from better-invite is listed with its reason", async () => {
  const all = [];
  for (const scenario of SCENARIOS) {
    const reference = await transcriptOf("better-invite", scenario);
    const ours = await transcriptOf("ledger", scenario);
    all.push(...differences(scenario, reference, ours));
  }
  const report = all.map((d) => `- ${d.key}: better-invite ${d.betterInvite}, ledger ${d.ledger}${reasonFor(d.key) ? ` (${reasonFor(d.key)})` : " (UNLISTED)"}`);
  console.log(`Differences from better-invite 0.5.7 (${all.length}):\n${report.join("\n")}`);
  const unlisted = all.filter((d) => !reasonFor(d.key));
  assert.deepEqual(unlisted, [], "every difference is listed with its reason");
});
