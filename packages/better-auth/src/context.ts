// What the plugin's routes and hooks share: the resolved options, the ledger client,
// and the seats reserved for sign-ups that are still in flight in this process.
import { createHash } from "node:crypto";

import type { GenericEndpointContext } from "better-auth";
import { getSessionFromCtx } from "better-auth/api";

import type { Actor, Hello } from "./ledger-client.js";
import { LedgerClient } from "./ledger-client.js";
import type { InviteLedgerOptions, InviteUser, ResolvedOptions } from "./options.js";
import { resolveOptions } from "./options.js";

/** A seat the ledger holds for a sign-up until Better Auth's write commits. */
export type Reservation = {
  reservationId: string;
  role: string;
  position: string;
  redirectToAfterUpgrade?: string | null;
  invite: Record<string, unknown>;
  token: string;
  at: number;
};

/** What became of the invite a sign-up held, when the ledger refused it (invite-only off). */
export type Refused = { code: string; message: string; at: number };

/** In-flight entries older than this are dropped: the ledger settles their seats itself. */
const IN_FLIGHT_MS = 120_000;

export class PluginContext {
  readonly options: ResolvedOptions;
  readonly ledger: LedgerClient;
  private callbackUrl = "";
  /** By the new user's id, from `user.create.before` to the request's end. */
  readonly reservations = new Map<string, Reservation>();
  readonly refusals = new Map<string, Refused>();

  constructor(options: InviteLedgerOptions) {
    if (!options?.ledgerUrl) throw new Error("inviteLedger: `ledgerUrl` is required");
    if (!options?.apiKey) throw new Error("inviteLedger: `apiKey` is required");
    this.options = resolveOptions(options);
    this.ledger = new LedgerClient({
      ledgerUrl: options.ledgerUrl,
      apiKey: options.apiKey,
      timeoutMs: this.options.ledgerTimeoutMs,
      callbackUrl: () => this.callbackUrl,
      fetch: options.fetch ?? ((...args) => globalThis.fetch(...args)),
    });
  }

  /** Better Auth's base URL is known at `init`: the ledger's callbacks go below it. */
  setBaseURL(baseURL: string) {
    this.callbackUrl = `${baseURL.replace(/\/$/, "")}/invite/ledger-sync`;
  }

  hello(): Promise<Hello> {
    return this.ledger.handshake();
  }

  async inviteOnly(): Promise<boolean> {
    if (typeof this.options.inviteOnly === "boolean") return this.options.inviteOnly;
    return (await this.hello()).inviteOnly === true;
  }

  /** Drops in-flight entries no request will come back for. */
  sweep(now = Date.now()) {
    for (const [id, entry] of this.reservations) if (now - entry.at > IN_FLIGHT_MS) this.reservations.delete(id);
    for (const [id, entry] of this.refusals) if (now - entry.at > IN_FLIGHT_MS) this.refusals.delete(id);
  }
}

export const actorOf = (user: InviteUser | null | undefined): Actor | null =>
  user ? { id: user.id, email: user.email, name: user.name ?? null, role: (user.role as string | null) ?? null } : null;

/** The signed-in user, if any, for routes that also serve visitors. */
export async function sessionOf(ctx: GenericEndpointContext) {
  const session = await getSessionFromCtx(ctx);
  return session ?? null;
}

/** A stable idempotency key for one logical command (its retries share it). */
export const keyOf = (...parts: string[]) =>
  createHash("sha256").update(parts.join("\u0000")).digest("base64url").slice(0, 43);

/** The log position as a string whose order is the log's order (for compare-and-set in SQL). */
export function positionKey(position: unknown): string {
  const text = String(position ?? "");
  const parts = text.split("/").map((part) => part.trim());
  if (parts.length > 2 || parts.some((part) => !/^\d{1,20}$/.test(part))) {
    throw new Error(`not a ledger position: ${text}`);
  }
  // The protocol's text form: each number left-padded to 20 digits, joined by `/`.
  return parts.map((part) => part.padStart(20, "0")).join("/");
}
