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
];

/** scenario / step / field -> why the ledger's plugin answers otherwise. */
export const KNOWN_DIFFERENCES = {};

const flatten = (value, prefix = "") =>
  value && typeof value === "object" && !Array.isArray(value)
    ? Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key))
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
  const report = all.map((d) => `- ${d.key}: better-invite ${d.betterInvite}, ledger ${d.ledger}${KNOWN_DIFFERENCES[d.key] ? ` (${KNOWN_DIFFERENCES[d.key]})` : " (UNLISTED)"}`);
  console.log(`Differences from better-invite 0.5.7 (${all.length}):\n${report.join("\n")}`);
  const unlisted = all.filter((d) => !KNOWN_DIFFERENCES[d.key]);
  assert.deepEqual(unlisted, [], "every difference is listed with its reason");
});
