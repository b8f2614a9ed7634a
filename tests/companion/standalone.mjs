// The scenarios' `auth` handle for the invite-ledger binary run alone, as the auth
// server itself (tests/client starts it the same way): the same browsers (Better Auth
// clients with the invite client), the admin made from the command line, the
// invitation emails from the binary's MAIL_DIR, and a user's row as the admin
// plugin's `listUsers` shows it. The differential runs the scenarios on it too.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

import { ADMIN, eventually, newBrowser, startLedger } from "./harness.mjs";

/** The plugin's own invite cookie name, so the scenarios look for the same cookie. */
const PLUGIN_COOKIE = { INVITE_COOKIE_NAME: "{prefix}.invite_token" };

/** The invitation emails the binary wrote for `to` (account emails have no role). */
async function invitationsIn(mailDir, to) {
  const files = (await readdir(mailDir)).filter((f) => f.endsWith(".json") && !f.startsWith(".")).sort();
  const emails = await Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(mailDir, f), "utf8"))));
  return emails.filter((email) => email.to === to && email.role);
}

/** The binary alone, serving Better Auth's routes and the invite plugin's, with an admin. */
export async function startStandalone(extraEnv = {}) {
  const ledger = await startLedger(
    {
      // Cheap password hashing: the hash is not what the scenarios are about.
      PASSWORD_HASH_MEMORY_KIB: "64",
      PASSWORD_HASH_ITERATIONS: "1",
      SIGN_IN_ATTEMPTS_PER_ADDRESS: "100000",
      ...PLUGIN_COOKIE,
      ...extraEnv,
    },
    { admin: ADMIN },
  );
  const baseURL = `${ledger.url}`;
  const signIn = async () => {
    const browser = newBrowser(baseURL);
    const { error } = await browser.client.signIn.email({ email: ADMIN.email, password: ADMIN.password });
    if (error) throw new Error(`admin sign-in failed: ${JSON.stringify(error)}`);
    return browser;
  };
  let lookup;
  return {
    baseURL,
    ledger,
    browser: (jar) => newBrowser(baseURL, jar),
    admin: signIn,
    /** The invitation emails sent to `to`: the email reactor sends after the answer, so wait for one. */
    emailsTo: (to) => eventually(async () => {
      const emails = await invitationsIn(ledger.mailDir, to);
      return emails.length ? emails : null;
    }, 15000, `an invitation email to ${to}`),
    /** The account with this email as the admin sees it (`{id, role}`), or undefined. */
    userRow: async (email) => {
      lookup ??= await signIn();
      const { data, error } = await lookup.client.admin.listUsers({
        query: { filterField: "email", filterValue: email, filterOperator: "eq" },
      });
      if (error) throw new Error(`listUsers failed: ${JSON.stringify(error)}`);
      return data.users[0];
    },
    log: () => ledger.log(),
    stop: () => ledger.stop(),
  };
}

/** Runs `body` with the binary alone, stopping it whatever happens. */
export async function withStandalone(extraEnv, body) {
  const auth = await startStandalone(extraEnv);
  try {
    return await body({ auth });
  } catch (error) {
    console.error(`--- invite-ledger log ---\n${auth.log()}`);
    throw error;
  } finally {
    await auth.stop();
  }
}
