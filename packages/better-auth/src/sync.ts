// The ledger's calls to the plugin, signed with the secret the handshake gave:
// `role.decided` (a role repair, applied compare-and-set on its log position) and
// `user.exists` (settles a seat reserved for a sign-up that never confirmed).
import { createHmac, timingSafeEqual } from "node:crypto";

import { APIError, createAuthEndpoint } from "better-auth/api";

import type { PluginContext } from "./context.js";
import { positionKey } from "./context.js";
import { toAPIError } from "./errors.js";
import { applyRole } from "./roles.js";

export const SIGNATURE_HEADER = "x-invite-ledger-signature";
/** A signed call older (or further in the future) than this is refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const unauthorized = (message: string) => APIError.from("UNAUTHORIZED", { code: "INVALID_SIGNATURE", message });

/** Checks `t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>` against the raw body. */
export function verifySignature(secret: string, header: string | null, body: string, now = Date.now()) {
  if (!header) throw unauthorized("The call is not signed");
  const fields = new Map(
    header.split(",").map((part) => {
      const at = part.indexOf("=");
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = Number(fields.get("t"));
  const given = fields.get("v1") ?? "";
  if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/i.test(given)) throw unauthorized("The signature is malformed");
  if (Math.abs(now / 1000 - timestamp) > SIGNATURE_TOLERANCE_SECONDS) throw unauthorized("The signature is stale");
  const expected = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(given, "hex"))) throw unauthorized("The signature does not match");
}

export const ledgerSync = (plugin: PluginContext) =>
  createAuthEndpoint(
    "/invite/ledger-sync",
    {
      method: "POST",
      // The signature covers the raw body: read it as sent, not as parsed.
      disableBody: true,
      cloneRequest: true,
      metadata: { isAction: false, openapi: { operationId: "inviteLedgerSync", description: "Signed calls from invite-ledger" } },
    },
    async (ctx) => {
      if (!ctx.request) throw APIError.from("BAD_REQUEST", { code: "NO_REQUEST", message: "Only the ledger calls this, over HTTP" });
      const raw = await ctx.request.text();
      const { signingSecret } = await plugin.hello().catch((error) => {
        throw toAPIError(error);
      });
      verifySignature(signingSecret, ctx.request.headers.get(SIGNATURE_HEADER), raw);
      let call: any;
      try {
        call = JSON.parse(raw);
      } catch {
        throw APIError.from("BAD_REQUEST", { code: "INVALID_BODY", message: "The body is not JSON" });
      }
      if (call?.type === "user.exists" && typeof call.userId === "string") {
        const user = await ctx.context.internalAdapter.findUserById(call.userId);
        return ctx.json({ exists: Boolean(user) });
      }
      if (call?.type === "role.decided" && typeof call.userId === "string" && typeof call.role === "string") {
        try {
          positionKey(call.position);
        } catch {
          throw APIError.from("BAD_REQUEST", { code: "INVALID_POSITION", message: "Not a ledger position" });
        }
        const user = await ctx.context.internalAdapter.findUserById(call.userId);
        if (!user) return ctx.json({ applied: false, exists: false });
        const applied = await applyRole(ctx.context, call.userId, call.role, call.position);
        return ctx.json({ applied, exists: true });
      }
      throw APIError.from("BAD_REQUEST", { code: "UNKNOWN_CALL", message: "Unknown call type" });
    },
  );
