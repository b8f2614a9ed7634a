// A Better Auth server in its own Node process (so a scenario can SIGKILL it):
// `/api/auth/*` is Better Auth; `/test/emails` shows what `sendUserInvitation` sent,
// `/test/otps` the one-time codes the email-OTP plugin sent, `/test/verifications` the
// email-verification links;
// any other path is a page of the app (the redirects' targets).
//
// Settings come as JSON in AUTH_SETTINGS (see auth-config.mjs). With
// CRASH_AFTER_LEDGER_CALL=invite/use, the process kills itself (SIGKILL) as soon as
// the ledger has answered that call, before the plugin writes the role it answered
// (and, until then, answers 503 to the ledger's repairs). With
// CRASH_BEFORE_LEDGER_CALL=organization/record:invitationAccepted, it kills itself as
// the plugin is about to tell the ledger that fact: after Better Auth's commit.
import http from "node:http";

import { toNodeHandler } from "better-auth/node";

import { makeAuth } from "./auth-config.mjs";

const settings = JSON.parse(process.env.AUTH_SETTINGS);
const port = Number(new URL(settings.baseURL).port);
const emails = [];
const otps = [];
const verifications = [];

const crashAfter = process.env.CRASH_AFTER_LEDGER_CALL;
// `organization/record:invitationAccepted`: that call, for that fact type.
const [crashBeforePath, crashBeforeFact] = (process.env.CRASH_BEFORE_LEDGER_CALL ?? "").split(":");
const ledgerFetch = async (input, init) => {
  if (
    crashBeforePath &&
    String(input).endsWith(`/api/companion/${crashBeforePath}`) &&
    (!crashBeforeFact || JSON.parse(String(init?.body ?? "{}")).fact?.type === crashBeforeFact)
  ) {
    process.kill(process.pid, "SIGKILL"); // Better Auth has committed; the ledger hears nothing
    await new Promise(() => {}); // (the signal lands before anything else runs)
  }
  const response = await fetch(input, init);
  if (crashAfter && String(input).endsWith(`/api/companion/${crashAfter}`) && response.ok) {
    await response.clone().text(); // the ledger's answer arrived in full
    process.kill(process.pid, "SIGKILL");
  }
  return response;
};

const auth = makeAuth({
  ...settings,
  fetch: ledgerFetch,
  sendUserInvitation: async (email) => {
    emails.push(email);
  },
  sendVerificationOTP: (otp) => {
    otps.push(otp);
  },
  sendVerificationEmail: ({ user, url }) => {
    verifications.push({ email: user.email, url });
  },
});
const handler = toNodeHandler(auth);

const server = http.createServer((request, response) => {
  const url = new URL(request.url, settings.baseURL);
  // At a crash point, the ledger's repairs cannot reach this process yet (they
  // would otherwise race the crash): the role must come from a repair after the restart.
  if (crashAfter && url.pathname.endsWith("/invite/ledger-sync")) {
    response.writeHead(503);
    return response.end();
  }
  if (url.pathname.startsWith("/api/auth")) return handler(request, response);
  if (url.pathname === "/test/emails") {
    const to = url.searchParams.get("to");
    response.writeHead(200, { "content-type": "application/json" });
    return response.end(JSON.stringify(emails.filter((email) => !to || email.email === to)));
  }
  if (url.pathname === "/test/verifications") {
    const to = url.searchParams.get("to");
    response.writeHead(200, { "content-type": "application/json" });
    return response.end(JSON.stringify(verifications.filter((message) => message.email === to)));
  }
  if (url.pathname === "/test/otps") {
    const to = url.searchParams.get("to");
    response.writeHead(200, { "content-type": "application/json" });
    return response.end(JSON.stringify(otps.filter((otp) => otp.email === to)));
  }
  response.writeHead(200, { "content-type": "text/html" });
  response.end(`<!doctype html><title>${url.pathname}</title><p>page ${url.pathname}</p>`);
});
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
