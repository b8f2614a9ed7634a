// Starts the real `invite-ledger` binary on a free loopback port against a fresh
// database of its own, and makes Better Auth clients, each with its own cookie jar
// (one per "browser"). Everything a test does goes through those clients.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import { promisify } from "node:util";

import { createAuthClient } from "better-auth/client";
import { adminClient } from "better-auth/client/plugins";
import fetchCookie from "fetch-cookie";
import pg from "pg";
import { CookieJar } from "tough-cookie";

import { inviteClient } from "./invite-client.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The binary under test: cargo passes its path; by hand, the debug build. */
const BINARY =
  process.env.INVITE_LEDGER_BIN ?? path.resolve(here, "../../target/debug/invite-ledger");
/** PostgreSQL server (no database name), as the Rust tests take it. */
const DATABASE_SERVER = process.env.TEST_DATABASE_SERVER ?? "postgres://postgres@127.0.0.1:5432";

export const ADMIN = { email: "admin@example.com", password: "admin-password", name: "Admin" };
export const USER_PASSWORD = "user-password";

/** A client call that was refused: no data, and the error as the client surfaces it. */
export function assertRefused(result, status, code) {
  const shown = JSON.stringify(result);
  assert.equal(result.data, null, shown);
  assert.equal(result.error?.status, status, shown);
  assert.equal(result.error.code, code, shown);
  assert.ok(result.error.message, `a refusal says why: ${shown}`);
}

/** A refusal with the plugin's `code` and our more precise one as `reason`. */
export function assertRefusedBecause(result, status, code, reason) {
  assertRefused(result, status, code);
  assert.equal(result.error.reason, reason, JSON.stringify(result));
}

async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running server with its own database and mail folder. */
async function startServer(extraEnv = {}) {
  const port = await freePort();
  const database = `invite_ledger_client_${randomBytes(8).toString("hex")}`;
  const mailDir = await mkdtemp(path.join(os.tmpdir(), "invite-ledger-mail-"));
  const baseURL = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: `${DATABASE_SERVER}/${database}`,
    BIND_ADDRESS: "127.0.0.1",
    PORT: String(port),
    BASE_URL: baseURL,
    MAIL_DIR: mailDir,
    // Cheap password hashing: the hash is not what these tests are about.
    PASSWORD_HASH_MEMORY_KIB: "64",
    PASSWORD_HASH_ITERATIONS: "1",
    // The suite signs in more often than Better Auth's 3 per 10 s allows one address.
    SIGN_IN_ATTEMPTS_PER_ADDRESS: "100000",
    RUST_LOG: process.env.RUST_LOG ?? "warn",
    ...extraEnv,
  };

  const cleanUp = async () => {
    await dropDatabase(database);
    await rm(mailDir, { recursive: true, force: true });
  };

  // The first admin, from the command line (this also creates the database).
  try {
    await promisify(execFile)(
      BINARY,
      ["user", "create", "--email", ADMIN.email, "--password", ADMIN.password,
        "--name", ADMIN.name, "--role", "admin"],
      { env },
    );
  } catch (error) {
    await cleanUp();
    throw error;
  }

  const child = spawn(BINARY, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (chunk) => { log += chunk; });
  child.stderr.on("data", (chunk) => { log += chunk; });
  const exited = new Promise((resolve) => child.once("exit", resolve));

  const server = {
    baseURL,
    /** A fresh browser: a Better Auth client with a cookie jar of its own. */
    browser: () => newBrowser(baseURL),
    /** Another client on an existing cookie jar (the same browser, a new page). */
    browserWithJar: (jar) => newBrowser(baseURL, jar),
    /** A browser signed in as the admin made from the command line. */
    admin: async () => {
      const browser = newBrowser(baseURL);
      const { error } = await browser.client.signIn.email({
        email: ADMIN.email,
        password: ADMIN.password,
      });
      if (error) throw new Error(`admin sign-in failed: ${JSON.stringify(error)}`);
      return browser;
    },
    /** A browser signed up (without an invite) as a new user with the default role. */
    newUser: async (email) => {
      const browser = newBrowser(baseURL);
      const { error } = await browser.client.signUp.email({
        email,
        password: USER_PASSWORD,
        name: email.split("@")[0],
      });
      if (error) throw new Error(`sign-up of ${email} failed: ${JSON.stringify(error)}`);
      return browser;
    },
    /** The last email sent to `to` (with this subject, if given), as MAIL_DIR holds it. */
    emailTo: (to, subject) => lastEmailTo(mailDir, to, subject),
    /** How many emails `to` was sent (with this subject, if given). */
    emailsTo: (to, subject) => emailsTo(mailDir, to, subject),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGINT");
        const stubborn = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(stubborn);
      }
      await cleanUp();
      // Warnings and errors the server logged, for whoever reads a failure.
      if (log.trim()) console.error(`--- invite-ledger log ---\n${log}`);
    },
  };

  try {
    await waitUntilReady(baseURL, exited);
  } catch (error) {
    await server.stop(); // prints the server's log
    throw error;
  }
  return server;
}

/**
 * One server for the tests of a file: started before them, stopped after them.
 * The object returned is filled in once the server is up; `then` runs next (in the
 * same hook: Node 20 does not wait for one top-level `before` to end before the next).
 * `env` adds to (or overrides) the server's configuration.
 */
export function serverForThisFile(then = async () => {}, env = {}) {
  const server = {};
  before(async () => {
    Object.assign(server, await startServer(env));
    await then(server);
  });
  after(async () => server.stop?.());
  return server;
}

async function waitUntilReady(baseURL, exited) {
  let stopped = false;
  exited.then(() => { stopped = true; });
  for (let attempt = 0; attempt < 200; attempt++) {
    if (stopped) throw new Error("invite-ledger exited before it was ready");
    try {
      const response = await fetch(`${baseURL}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error("invite-ledger was not ready within 10 seconds");
}

async function dropDatabase(database) {
  const admin = new pg.Client({ connectionString: `${DATABASE_SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

function newBrowser(baseURL, jar = new CookieJar()) {
  const fetchWithCookies = fetchCookie(fetch, jar);
  const client = createAuthClient({
    baseURL,
    plugins: [adminClient(), inviteClient()],
    fetchOptions: { customFetchImpl: fetchWithCookies },
  });
  return {
    client,
    jar,
    /** Plain fetch that shares this browser's cookies (for following links). */
    fetch: fetchWithCookies,
    cookie: async (name) =>
      (await jar.getCookies(baseURL)).find((cookie) => cookie.key === name),
  };
}

async function emailsTo(mailDir, to, subject) {
  const files = (await readdir(mailDir)).filter((f) => f.endsWith(".json") && !f.startsWith(".")).sort();
  const emails = [];
  for (const file of files) {
    const email = JSON.parse(await readFile(path.join(mailDir, file), "utf8"));
    if (email.to === to && (subject === undefined || email.subject === subject)) emails.push(email);
  }
  return emails;
}

async function lastEmailTo(mailDir, to, subject) {
  // Delivery may follow the response: wait a little for the file.
  for (let attempt = 0; attempt < 100; attempt++) {
    const emails = await emailsTo(mailDir, to, subject);
    if (emails.length) return emails[emails.length - 1];
    await sleep(50);
  }
  throw new Error(`no email to ${to} in ${mailDir}`);
}
