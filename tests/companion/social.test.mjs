// better-invite's social callback path (`/callback/:id`), through Better Auth's
// generic OAuth provider against a small OAuth server run by this test: a new user
// signing up through it takes a seat; an existing one signing in is upgraded.
import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";

import { freePort, INVITE_COOKIE, withStack } from "./harness.mjs";

/** An OAuth 2 provider that signs in whoever `identity` names. */
async function startProvider() {
  const port = await freePort();
  const provider = { url: `http://127.0.0.1:${port}`, identity: null };
  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, provider.url);
    if (url.pathname === "/authorize") {
      const back = new URL(url.searchParams.get("redirect_uri"));
      back.searchParams.set("code", `code-${provider.identity.sub}`);
      back.searchParams.set("state", url.searchParams.get("state"));
      response.writeHead(302, { location: back.href });
      return response.end();
    }
    const json = (body) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === "/token") return json({ access_token: `token-${provider.identity.sub}`, token_type: "Bearer", expires_in: 3600 });
    if (url.pathname === "/userinfo") return json({ id: provider.identity.sub, ...provider.identity, email_verified: true });
    response.writeHead(404);
    response.end();
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  provider.stop = () => new Promise((resolve) => server.close(resolve));
  return provider;
}

/** Signs in with the provider as a browser would: Better Auth, the provider, back to the callback. */
async function socialSignIn(browser, provider, identity) {
  provider.identity = identity;
  const started = await browser.client.signIn.social({ provider: "acme", callbackURL: "/welcome", disableRedirect: true });
  assert.equal(started.error, null, JSON.stringify(started.error));
  const atProvider = await browser.fetch(started.data.url, { redirect: "manual" });
  const callback = atProvider.headers.get("location");
  assert.match(callback, /\/api\/auth\/callback\/acme\?/);
  const back = await browser.fetch(callback, { redirect: "manual" });
  assert.equal(back.status, 302, await back.text());
  return back.headers.get("location");
}

test("social callback: a new user signing up with an invite takes a seat; an existing one is upgraded", async () => {
  const provider = await startProvider();
  try {
    await withStack({ oauthProviderUrl: provider.url }, async ({ auth, ledger }) => {
      const admin = await auth.admin();
      const create = async () => (await admin.client.invite.create({ role: "admin", senderResponse: "token", maxUses: 1 })).data.message;

      const carol = auth.browser();
      assert.equal((await carol.client.invite.activate({ token: await create() })).error, null);
      const landed = await socialSignIn(carol, provider, { sub: "carol-1", email: "carol@acme.example", name: "Carol" });
      assert.equal(new URL(landed, auth.baseURL).pathname, "/auth/invited");
      assert.equal(await carol.cookie(INVITE_COOKIE), undefined);
      assert.equal((await auth.userRow("carol@acme.example")).role, "admin");
      assert.equal((await carol.client.getSession()).data.user.role, "admin");

      const dave = auth.browser();
      await socialSignIn(dave, provider, { sub: "dave-1", email: "dave@acme.example", name: "Dave" });
      assert.equal((await auth.userRow("dave@acme.example")).role, "user");
      await dave.client.signOut();
      assert.equal((await dave.client.invite.activate({ token: await create() })).error, null);
      await socialSignIn(dave, provider, { sub: "dave-1", email: "dave@acme.example", name: "Dave" });
      assert.equal((await auth.userRow("dave@acme.example")).role, "admin");
      assert.equal((await dave.client.getSession()).data.user.role, "admin");

      const uses = (await ledger.uses()).map((use) => [use.userEmail, use.newAccount]).sort();
      assert.deepEqual(uses, [["carol@acme.example", true], ["dave@acme.example", false]]);
    });
  } finally {
    await provider.stop();
  }
});
