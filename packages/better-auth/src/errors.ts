// Error codes: better-invite's own (so a front end written for it keeps working), and
// the refusals only the ledger makes, which keep the ledger's code and status.
import { APIError } from "better-auth/api";

import { LedgerRefusal, LedgerUnavailable } from "./ledger-client.js";

const codes = <const T extends Record<string, string>>(messages: T) =>
  Object.fromEntries(Object.entries(messages).map(([code, message]) => [code, { code, message }])) as {
    [K in keyof T & string]: { readonly code: K; message: string };
  };

export const ERROR_CODES = codes({
  USER_NOT_LOGGED_IN: "User must be logged in to create an invite",
  INSUFFICIENT_PERMISSIONS: "User does not have sufficient permissions to create invite",
  NO_SUCH_USER: "No such user",
  NO_USES_LEFT_FOR_INVITE: "No uses left for this invite",
  INVALID_OR_EXPIRED_INVITE: "Invalid or expired invite code",
  INVALID_TOKEN: "Invalid or non-existent token",
  INVALID_EMAIL: "This token is for a specific email, this is not it",
  CANT_ACCEPT_INVITE: "You cannot accept this invite",
  CANT_REJECT_INVITE: "You cannot reject this invite",
  INVITER_NOT_FOUND: "Inviter not found",
  ERROR_SENDING_THE_INVITATION_EMAIL: "Error sending the invitation email",
  ADMIN_PLUGIN_IS_NOT_SET_UP: "Admin plugin is not set-up",
  INVITATION_EMAIL_NOT_ENABLED: "Invitation email is not enabled",
  INVITE_TOKEN_HAS_ALREADY_BEEN_USED: "Invite token has already been used",
  INVITATION_NOT_CREATED: "Invitation could not be created",
  // Only the ledger's rules give these.
  INVITE_REQUIRED: "Sign-up needs an invite",
  LEDGER_UNAVAILABLE: "The invite ledger is unavailable, try again",
});

type Status = ConstructorParameters<typeof APIError>[0];

/** Which better-invite refusal a ledger refusal is, where better-invite has one. */
const BETTER_INVITE_EQUIVALENT: Record<string, keyof typeof ERROR_CODES> = {
  INVITE_NOT_FOUND: "INVALID_TOKEN",
  INVALID_TOKEN: "INVALID_TOKEN",
  INVITE_CANCELLED: "INVALID_TOKEN",
  INVITE_REJECTED: "INVALID_TOKEN",
  INVITE_EXPIRED: "INVALID_OR_EXPIRED_INVITE",
  INVITE_USED_UP: "NO_USES_LEFT_FOR_INVITE",
  INVITE_ALREADY_USED_BY_USER: "INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
  INVITE_EMAIL_MISMATCH: "INVALID_EMAIL",
  INSUFFICIENT_PERMISSIONS: "INSUFFICIENT_PERMISSIONS",
  NOT_INVITE_CREATOR: "INSUFFICIENT_PERMISSIONS",
  NOT_INVITEE: "CANT_REJECT_INVITE",
  NOT_A_PRIVATE_INVITE: "CANT_REJECT_INVITE",
  CANNOT_USE_OWN_INVITE: "CANT_ACCEPT_INVITE",
  INVITE_WOULD_LOWER_ROLE: "CANT_ACCEPT_INVITE",
};

/** Where a route answers a used-up invite with another of better-invite's codes. */
export type RefusalContext = { usedUp?: keyof typeof ERROR_CODES };

const STATUS_NAMES: Record<number, Status> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  410: "GONE",
  422: "UNPROCESSABLE_ENTITY",
  429: "TOO_MANY_REQUESTS",
};

/**
 * The APIError a route throws for a failed ledger call: better-invite's 400 and code
 * where it has an equivalent (the ledger's code rides along as `ledgerCode`), the
 * ledger's own status and code otherwise, and 503 when the ledger could not decide.
 */
export function toAPIError(error: unknown, context: RefusalContext = {}): APIError {
  if (error instanceof APIError) return error;
  if (error instanceof LedgerRefusal) {
    let equivalent = BETTER_INVITE_EQUIVALENT[error.code];
    if (error.code === "INVITE_USED_UP" && context.usedUp) equivalent = context.usedUp;
    if (equivalent) {
      // `APIError.from` keeps only `code` and `message`: the body is given whole.
      return new APIError("BAD_REQUEST", { ...ERROR_CODES[equivalent], ledgerCode: error.code } as any);
    }
    const status = STATUS_NAMES[error.status] ?? "BAD_REQUEST";
    return APIError.from(status, { code: error.code, message: error.message });
  }
  if (error instanceof LedgerUnavailable) {
    return APIError.from("SERVICE_UNAVAILABLE", ERROR_CODES.LEDGER_UNAVAILABLE);
  }
  throw error;
}

export function refuse(status: Status, code: keyof typeof ERROR_CODES): never {
  throw APIError.from(status, ERROR_CODES[code]);
}
