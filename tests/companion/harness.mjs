// Starts, for one scenario: the invite-ledger binary on a fresh database of its own
// (with a companion key and an audit key), and a Better Auth server in its own Node
// process on another fresh database, its tables made by Better Auth's own migrations.
// Browsers are Better Auth clients, each with its own cookie jar. Everything is
// stopped and every database dropped afterwards.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { inviteLedgerClient } from "@invite-ledger/better-auth/client";
import { createAuthClient } from "better-auth/client";
import { adminClient, emailOTPClient, organizationClient, twoFactorClient } from "better-auth/client/plugins";
import { getMigrations } from "better-auth/db/migration";
import fetchCookie from "fetch-cookie";
import pg from "pg";
import { CookieJar } from "tough-cookie";

import { makeAuth } from "./auth-config.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const BINARY = process.env.INVITE_LEDGER_BIN ?? path.resolve(here, "../../target/debug/invite-ledger");
const DATABASE_SERVER = process.env.TEST_DATABASE_SERVER ?? "postgres://postgres@127.0.0.1:5432";

export const ADMIN = { email: "admin@example.com", password: "admin-password", name: "Admin" };
export const PASSWORD = "user-password";
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value; fails after `ms`. */
export async function eventually(check, ms = 15000, what = "the condition") {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`${what} did not hold within ${ms} ms (last: ${last instanceof Error ? last.stack : JSON.stringify(last)})`);
}

export async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A statement on the server's `postgres` database; waits (bounded) while the shared server is full. */
async function adminQuery(sql) {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: `${DATABASE_SERVER}/postgres` });
    try {
      await client.connect();
      await client.query(sql);
      return;
    } catch (error) {
      // 53300: too many connections (other suites share the server).
      if (error.code !== "53300" || attempt >= 50) throw error;
      await sleep(200);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

const newDatabaseName = (kind) => `companion_${kind}_${randomBytes(6).toString("hex")}`;
const createDatabase = (name) => adminQuery(`CREATE DATABASE ${name}`);
const dropDatabase = (name) => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);

/** Waits until `url` answers 2xx, or the process exits. */
async function waitForHttp(url, exited, what) {
  let stopped = false;
  exited.then(() => {
    stopped = true;
  });
  for (let attempt = 0; attempt < 300; attempt++) {
    if (stopped) throw new Error(`${what} exited before it was ready`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${what} was not ready within 15 seconds`);
}

function spawnLogged(command, args, env) {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const output = { log: "" };
  child.stdout.on("data", (chunk) => (output.log += chunk));
  child.stderr.on("data", (chunk) => (output.log += chunk));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, output, exited };
}

async function stopProcess(running, signal = "SIGTERM") {
  if (running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill("SIGCONT"); // a paused process would not hear the signal
    running.child.kill(signal);
    const stubborn = setTimeout(() => running.child.kill("SIGKILL"), 5000);
    await running.exited;
    clearTimeout(stubborn);
  }
}

/**
 * The invite-ledger binary on its own database, with a companion and an audit API key
 * (and, with `admin`, that account made from the command line before it serves).
 */
export async function startLedger(extraEnv = {}, { admin } = {}) {
  const port = await freePort();
  const database = newDatabaseName("ledger");
  const mailDir = await mkdtemp(path.join(os.tmpdir(), "companion-ledger-mail-"));
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: `${DATABASE_SERVER}/${database}`,
    BIND_ADDRESS: "127.0.0.1",
    PORT: String(port),
    BASE_URL: url,
    MAIL_DIR: mailDir,
    RUST_LOG: process.env.RUST_LOG ?? "warn",
    // The PostgreSQL server is shared: a small pool per ledger.
    DATABASE_MAX_CONNECTIONS: "8",
    ...extraEnv,
  };
  await createDatabase(database);
  const cleanUp = async () => {
    await dropDatabase(database);
    await rm(mailDir, { recursive: true, force: true });
  };
  let companionKey;
  let auditKey;
  try {
    const run = promisify(execFile);
    companionKey = (await run(BINARY, ["apikey", "create", "--name", "better-auth", "--scope", "companion"], { env })).stdout.trim();
    auditKey = (await run(BINARY, ["apikey", "create", "--name", "audit"], { env })).stdout.trim();
    if (admin) {
      await run(BINARY, ["user", "create", "--email", admin.email, "--password", admin.password, "--name", admin.name, "--role", "admin"], { env });
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const running = spawnLogged(BINARY, ["serve"], env);
  const ledger = {
    url,
    mailDir,
    companionKey,
    auditKey,
    /** The audit API, as an auditor with the audit key reads it. */
    audit: async (pathAndQuery) => {
      const response = await fetch(`${url}${pathAndQuery}`, { headers: { authorization: `Bearer ${auditKey}` } });
      const body = await response.json().catch(() => null);
      assert.equal(response.status, 200, `GET ${pathAndQuery}: ${JSON.stringify(body)}`);
      return body;
    },
    /** Every recorded use (one ledger per scenario, so these are the scenario's). */
    uses: async () => (await ledger.audit("/api/ledger/uses?limit=500")).uses,
    stop: async () => {
      await stopProcess(running, "SIGINT");
      await cleanUp();
      if (running.output.log.trim() && process.env.SHOW_LOGS) console.error(`--- invite-ledger log ---\n${running.output.log}`);
    },
    log: () => running.output.log,
    /** Freezes the ledger (SIGSTOP): it accepts connections and answers nothing. */
    pause: () => running.child.kill("SIGSTOP"),
    resume: () => running.child.kill("SIGCONT"),
  };
  try {
    await waitForHttp(`${url}/readyz`, running.exited, "invite-ledger");
  } catch (error) {
    console.error(running.output.log);
    await ledger.stop();
    throw error;
  }
  return ledger;
}

/**
 * A Better Auth server (auth-server.mjs) on a fresh database, with the admin made in
 * it. `plugin` is "ledger" (ours, against `ledger`) or "better-invite".
 */
export async function startAuth({ plugin = "ledger", ledger, twoFactor = false, emailOtp = false, verifyEmail = false, oauthProviderUrl, ledgerTimeoutMs, inviteOnly, organization = false, env = {} } = {}) {
  const port = await freePort();
  const database = newDatabaseName("auth");
  const baseURL = `http://127.0.0.1:${port}`;
  const settings = {
    databaseUrl: `${DATABASE_SERVER}/${database}`,
    baseURL,
    plugin,
    ledgerUrl: ledger?.url,
    apiKey: ledger?.companionKey,
    twoFactor,
    emailOtp,
    verifyEmail,
    oauthProviderUrl,
    ledgerTimeoutMs,
    inviteOnly,
    organization,
  };
  await createDatabase(database);
  const db = new pg.Pool({ connectionString: settings.databaseUrl, max: 2 });
  db.on("error", () => {}); // an idle connection dropped by the server is replaced when next needed
  try {
    // Better Auth's own migrations, for exactly the configuration the server runs.
    const auth = makeAuth({ ...settings, reconcile: false });
    const { runMigrations } = await getMigrations(auth.options);
    await runMigrations();
    await auth.options.database.end();
    await seedAdmin(db);
  } catch (error) {
    await db.end();
    await dropDatabase(database);
    throw error;
  }

  let running = null;
  const launch = async (extraEnv = {}) => {
    running = spawnLogged(process.execPath, [path.join(here, "auth-server.mjs")], {
      ...process.env,
      AUTH_SETTINGS: JSON.stringify(settings),
      ...env,
      ...extraEnv,
    });
    await waitForHttp(`${baseURL}/test/emails`, running.exited, "the Better Auth server");
  };
  const server = {
    baseURL,
    db,
    browser: (jar) => newBrowser(baseURL, jar, { twoFactor }),
    /** A browser signed in as the admin. */
    admin: async () => {
      const browser = newBrowser(baseURL, undefined, { twoFactor });
      const { error } = await browser.client.signIn.email({ email: ADMIN.email, password: ADMIN.password });
      if (error) throw new Error(`admin sign-in failed: ${JSON.stringify(error)}`);
      return browser;
    },
    /** The invitation emails `sendUserInvitation` got for `to`. */
    emailsTo: async (to) => (await fetch(`${baseURL}/test/emails?to=${encodeURIComponent(to)}`)).json(),
    /** The last email-verification link sent to `to`. */
    lastVerificationLinkTo: async (to) =>
      (await (await fetch(`${baseURL}/test/verifications?to=${encodeURIComponent(to)}`)).json()).at(-1)?.url,
    /** The last one-time code the email-OTP plugin sent to `to`. */
    lastOtpTo: async (to) => (await (await fetch(`${baseURL}/test/otps?to=${encodeURIComponent(to)}`)).json()).at(-1)?.otp,
    /** Better Auth's user row for an email, as its database holds it. */
    userRow: async (email) => (await db.query(`SELECT * FROM "user" WHERE email = $1`, [email])).rows[0],
    userCount: async () => Number((await db.query(`SELECT count(*) FROM "user"`)).rows[0].count),
    /** Kills the server process at once (SIGKILL), as a crash would. */
    kill: async () => {
      running.child.kill("SIGKILL");
      return running.exited;
    },
    /** Waits for the process to end by itself (e.g. its own SIGKILL at a crash point). */
    exited: () => running.exited,
    /** Starts the server again on the same port and database. */
    restart: async (extraEnv = {}) => launch(extraEnv),
    log: () => running?.output.log ?? "",
    stop: async () => {
      if (running) await stopProcess(running);
      await db.end();
      await dropDatabase(database);
      if (running?.output.log.trim() && process.env.SHOW_LOGS) console.error(`--- Better Auth log ---\n${running.output.log}`);
    },
  };
  try {
    await launch();
  } catch (error) {
    console.error(running?.output.log);
    await server.stop();
    throw error;
  }
  return server;
}

/** The first admin, written straight into Better Auth's tables (as a seed script would). */
async function seedAdmin(db) {
  const id = `admin${randomBytes(8).toString("hex")}`;
  await db.query(
    `INSERT INTO "user" (id, name, email, "emailVerified", role, "createdAt", "updatedAt")
     VALUES ($1, $2, $3, true, 'admin', now(), now())`,
    [id, ADMIN.name, ADMIN.email],
  );
  await db.query(
    `INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
     VALUES ($1, $2, 'credential', $2, $3, now(), now())`,
    [`acc${id}`, id, `plain:${ADMIN.password}`],
  );
}

export function newBrowser(baseURL, jar = new CookieJar(), { twoFactor = false } = {}) {
  const fetchWithCookies = fetchCookie(fetch, jar);
  const client = createAuthClient({
    baseURL,
    plugins: [adminClient(), inviteLedgerClient(), emailOTPClient(), organizationClient(), ...(twoFactor ? [twoFactorClient()] : [])],
    // A browser on the app's own origin sends it; Better Auth checks it on writes.
    fetchOptions: { customFetchImpl: fetchWithCookies, headers: { origin: baseURL } },
  });
  return {
    client,
    jar,
    fetch: fetchWithCookies,
    cookie: async (name) => (await jar.getCookies(baseURL)).find((cookie) => cookie.key === name),
    /** Signs up with the shared password. */
    signUp: (email, name = email.split("@")[0]) => client.signUp.email({ email, password: PASSWORD, name }),
    signIn: (email, password = PASSWORD) => client.signIn.email({ email, password }),
  };
}

/** Runs `body` with a ledger and a Better Auth server, stopping both whatever happens. */
export async function withStack(options, body) {
  const ledger = options.plugin === "better-invite" ? null : await startLedger(options.ledgerEnv);
  let auth;
  try {
    auth = await startAuth({ ...options, ledger });
    return await body({ ledger, auth });
  } catch (error) {
    if (auth) console.error(`--- Better Auth log ---\n${auth.log()}`);
    if (ledger) console.error(`--- invite-ledger log ---\n${ledger.log()}`);
    throw error;
  } finally {
    await auth?.stop();
    await ledger?.stop();
  }
}

export const INVITE_COOKIE = "better-auth.invite_token";
