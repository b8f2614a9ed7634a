// The admin plugin's user management through the real client: a banned user's
// sign-in is refused with Better Auth's code and their sessions end; admins list users.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertRefused, serverForThisFile, USER_PASSWORD } from "./harness.mjs";

const server = serverForThisFile();

test("admin.banUser, unbanUser, revokeUserSessions and removeUser", async () => {
  const admin = (await server.admin()).client;
  const ivan = await server.newUser("ivan@example.com");
  const ivanId = (await ivan.client.getSession()).data.user.id;

  const banned = await admin.admin.banUser({ userId: ivanId, banReason: "spam" });
  assert.equal(banned.error, null);
  assert.equal(banned.data.user.banned, true);
  assert.equal(banned.data.user.banReason, "spam");
  assert.equal((await ivan.client.getSession()).data, null, "the ban ends the session");
  assertRefused(
    await server.browser().client.signIn.email({ email: "ivan@example.com", password: USER_PASSWORD }),
    403,
    "BANNED_USER",
  );

  const unbanned = await admin.admin.unbanUser({ userId: ivanId });
  assert.equal(unbanned.data.user.banned, false);
  const back = server.browser();
  assert.equal(
    (await back.client.signIn.email({ email: "ivan@example.com", password: USER_PASSWORD })).error,
    null,
  );
  assert.equal((await admin.admin.revokeUserSessions({ userId: ivanId })).data.success, true);
  assert.equal((await back.client.getSession()).data, null);

  assert.equal((await admin.admin.removeUser({ userId: ivanId })).data.success, true);
  const gone = await server.browser().client.signIn.email({
    email: "ivan@example.com",
    password: USER_PASSWORD,
  });
  assert.equal(gone.error.code, "INVALID_EMAIL_OR_PASSWORD");
});

test("admin.listUsers searches, filters, sorts and pages; only admins list", async () => {
  const admin = (await server.admin()).client;
  const ann = await server.newUser("ann@list.example");
  await server.newUser("bob@list.example");
  await server.newUser("cy@list.example");

  assertRefused(
    await ann.client.admin.listUsers({ query: {} }),
    403,
    "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS",
  );
  assertRefused(await server.browser().client.admin.listUsers({ query: {} }), 401, "UNAUTHORIZED");

  const emails = (answer) => answer.data.users.map((user) => user.email);
  const found = await admin.admin.listUsers({
    query: { searchValue: "@list.example", searchField: "email", searchOperator: "contains" },
  });
  assert.equal(found.error, null, JSON.stringify(found.error));
  assert.deepEqual(emails(found), ["ann@list.example", "bob@list.example", "cy@list.example"]);
  assert.equal(found.data.total, 3);
  const bob = found.data.users[1];
  assert.equal(bob.name, "bob");
  assert.equal(bob.role, "user");
  assert.equal(bob.banned, false);
  assert.ok(bob.id && bob.createdAt, JSON.stringify(bob));

  const newestFirst = await admin.admin.listUsers({
    query: { searchValue: "list.example", searchOperator: "ends_with", sortBy: "createdAt", sortDirection: "desc" },
  });
  assert.deepEqual(emails(newestFirst), ["cy@list.example", "bob@list.example", "ann@list.example"]);

  const page = await admin.admin.listUsers({
    query: { searchValue: "@list.example", sortBy: "email", limit: 2, offset: 1 },
  });
  assert.deepEqual(emails(page), ["bob@list.example", "cy@list.example"]);
  assert.equal(page.data.total, 3);
  assert.equal(page.data.limit, 2);
  assert.equal(page.data.offset, 1);

  assert.equal((await admin.admin.setRole({ userId: bob.id, role: "admin" })).error, null);
  const admins = await admin.admin.listUsers({
    query: { searchValue: "@list.example", filterField: "role", filterValue: "admin", filterOperator: "eq" },
  });
  assert.deepEqual(emails(admins), ["bob@list.example"]);
  assert.equal(admins.data.total, 1);

  // `in` and `not_in`, as Better Auth's adapter takes them: the client sends a list as
  // the parameter repeated; one value is a list of one.
  const all = (await admin.admin.listUsers({ query: { searchValue: "@list.example" } })).data.total;
  const inAdmins = await admin.admin.listUsers({
    query: { searchValue: "@list.example", filterField: "role", filterValue: "admin", filterOperator: "in" },
  });
  assert.deepEqual(emails(inAdmins), ["bob@list.example"]);
  const notAdmins = await admin.admin.listUsers({
    query: { searchValue: "@list.example", filterField: "role", filterValue: ["admin"], filterOperator: "not_in" },
  });
  assert.equal(notAdmins.error, null, JSON.stringify(notAdmins.error));
  assert.ok(!emails(notAdmins).includes("bob@list.example"));
  assert.equal(notAdmins.data.total, all - 1);
  const either = await admin.admin.listUsers({
    query: { searchValue: "@list.example", filterField: "role", filterValue: ["admin", "user"], filterOperator: "in" },
  });
  assert.equal(either.error, null, JSON.stringify(either.error));
  assert.equal(either.data.total, all);
  const neither = await admin.admin.listUsers({
    query: { searchValue: "@list.example", filterField: "role", filterValue: ["admin", "user"], filterOperator: "not_in" },
  });
  assert.equal(neither.data.total, 0);

  assertRefused(
    await admin.admin.listUsers({ query: { sortBy: "password" } }),
    400,
    "VALIDATION_ERROR",
  );
});
