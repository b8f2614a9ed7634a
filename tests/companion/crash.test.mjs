// The role the ledger decided reaches Better Auth's user row even when the Node
// server dies (SIGKILL) between the ledger's answer and its own write.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, withStack } from "./harness.mjs";

test("killed after the ledger answered a use, before the role was written: after a restart the role lands, one use", () =>
  withStack({}, async ({ auth, ledger }) => {
    const bob = auth.browser();
    assert.equal((await bob.signUp("bob@example.com")).error, null);
    await bob.client.signOut();
    const admin = await auth.admin();
    const token = (await admin.client.invite.create({ role: "admin", senderResponse: "token" })).data.message;
    assert.equal((await bob.client.invite.activate({ token })).error, null);

    // The server kills itself (SIGKILL) as soon as the ledger's answer to `use` is in.
    await auth.kill();
    await auth.restart({ CRASH_AFTER_LEDGER_CALL: "invite/use" });
    const signIn = await bob.signIn("bob@example.com").catch((error) => ({ thrown: error }));
    assert.ok(signIn.thrown || signIn.error, `the sign-in got no answer: ${JSON.stringify(signIn)}`);
    const ended = await auth.exited();
    assert.equal(ended.signal, "SIGKILL");
    assert.equal((await auth.userRow("bob@example.com")).role, "user", "the crash came before the role was written");

    // Restarted, the ledger's signed repair writes the role.
    await auth.restart();
    await eventually(async () => (await auth.userRow("bob@example.com")).role === "admin", 30000, "the repaired role");
    const uses = (await ledger.uses()).filter((use) => use.userEmail === "bob@example.com");
    assert.equal(uses.length, 1, JSON.stringify(uses));

    // Signing in again (the invite cookie is still held) repeats nothing: still one use.
    const again = await bob.signIn("bob@example.com");
    assert.equal(again.error, null, JSON.stringify(again.error));
    assert.equal((await bob.client.getSession()).data.user.role, "admin");
    assert.equal((await ledger.uses()).filter((use) => use.userEmail === "bob@example.com").length, 1);
  }));

test("a seat reserved for a sign-up whose write never commits is given back, and the log says so", () =>
  withStack({ ledgerEnv: { COMPANION_RESERVATION_TTL_MS: "10000", INVITE_ONLY: "true" } }, async ({ auth, ledger }) => {
    const admin = await auth.admin();
    const token = (await admin.client.invite.create({ role: "admin", senderResponse: "token", maxUses: 1 })).data.message;
    const first = auth.browser();
    await first.client.invite.activate({ token });
    await auth.kill();
    // Killed once the seat is reserved, inside the sign-up's transaction: no user row.
    await auth.restart({ CRASH_AFTER_LEDGER_CALL: "invite/reserve" });
    await first.signUp("lost@example.com").catch(() => null);
    assert.equal((await auth.exited()).signal, "SIGKILL");
    assert.equal(await auth.userRow("lost@example.com"), undefined);

    await auth.restart();
    // Invite-only: while the seat is held, another sign-up on the invite is refused.
    const second = auth.browser();
    const held = await second.client.invite.activate({ token });
    assert.equal(held.error?.code, "INVITE_TOKEN_HAS_ALREADY_BEEN_USED", JSON.stringify(held));
    const early = await second.signUp("second@example.com");
    assert.equal(early.error?.code, "INVITE_REQUIRED", JSON.stringify(early));
    assert.equal(await auth.userRow("second@example.com"), undefined);

    // The ledger asks the plugin (`user.exists`: no) and releases the seat, in a recorded event.
    const released = await eventually(async () => {
      const { events } = await ledger.audit("/api/ledger/events?limit=1000");
      return events.find((event) => event.type === "SeatReleased");
    }, 60000, "a SeatReleased event");
    assert.equal(released.data.reason, "user_absent", JSON.stringify(released));

    // The seat is free again: the next sign-up gets it.
    assert.equal((await second.client.invite.activate({ token })).error, null);
    const later = await second.signUp("second@example.com");
    assert.equal(later.error, null, JSON.stringify(later.error));
    assert.equal((await auth.userRow("second@example.com")).role, "admin");
    const uses = await eventually(async () => {
      const found = await ledger.uses();
      return found.length === 1 && found;
    }, 10000, "one use");
    assert.deepEqual(uses.map((use) => use.userEmail), ["second@example.com"]);
  }));
