// better-invite's two-factor path: an invite held through a sign-in that needs a
// TOTP code is used when the code is verified, and the session shows the role.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { INVITE_COOKIE, PASSWORD, withStack } from "./harness.mjs";

function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of text.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The current code of an `otpauth://totp/...` URI (RFC 6238: SHA-1, 6 digits, 30 s). */
function totp(uri, at = Date.now()) {
  const params = new URL(uri).searchParams;
  const key = base32(params.get("secret"));
  const digits = Number(params.get("digits") ?? 6);
  const period = Number(params.get("period") ?? 30);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / period)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(value).padStart(digits, "0");
}

test("two-factor sign-in: the held invite is used at the TOTP verification", () =>
  withStack({ twoFactor: true }, async ({ auth, ledger }) => {
    const bob = auth.browser();
    assert.equal((await bob.signUp("bob@example.com")).error, null);
    const enabled = await bob.client.twoFactor.enable({ password: PASSWORD });
    assert.equal(enabled.error, null, JSON.stringify(enabled.error));
    const uri = enabled.data.totpURI;
    const confirmed = await bob.client.twoFactor.verifyTotp({ code: totp(uri) });
    assert.equal(confirmed.error, null, JSON.stringify(confirmed.error));
    await bob.client.signOut();

    const admin = await auth.admin();
    const token = (await admin.client.invite.create({ role: "admin", senderResponse: "token" })).data.message;
    assert.equal((await bob.client.invite.activate({ token })).error, null);

    const signedIn = await bob.signIn("bob@example.com");
    assert.equal(signedIn.error, null, JSON.stringify(signedIn.error));
    assert.equal(signedIn.data.twoFactorRedirect, true, "the password alone does not sign in");
    assert.ok(await bob.cookie(INVITE_COOKIE), "the invite is still held");
    assert.equal((await auth.userRow("bob@example.com")).role, "user");

    // A fresh code (the one used to enable may not be reused).
    const verified = await bob.client.twoFactor.verifyTotp({ code: totp(uri, Date.now() + 30_000) });
    assert.equal(verified.error, null, JSON.stringify(verified.error));
    assert.equal(await bob.cookie(INVITE_COOKIE), undefined, "the invite cookie is used");
    assert.equal((await auth.userRow("bob@example.com")).role, "admin");
    assert.equal((await bob.client.getSession()).data.user.role, "admin");
    const uses = (await ledger.uses()).filter((use) => use.userEmail === "bob@example.com");
    assert.equal(uses.length, 1);
  }));
