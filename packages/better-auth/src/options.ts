// better-invite 0.5.7's options (same names, same defaults), plus where the ledger is.
import type { GenericEndpointContext } from "better-auth";

export type Awaitable<T> = T | Promise<T>;

/** A Better Auth user with the admin plugin's `role`. */
export type InviteUser = {
  id: string;
  email: string;
  name: string;
  image?: string | null;
  role?: string | null;
  [field: string]: unknown;
};

/** An invite as the ledger describes it to the plugin's callbacks. */
export type LedgerInvite = {
  token?: string;
  inviteId?: string;
  role: string;
  email?: string | null;
  emails?: string[];
  createdByUserId?: string | null;
  redirectToAfterUpgrade?: string | null;
  status?: string;
  [field: string]: unknown;
};

/** An access-control check through the admin plugin, as better-invite takes it. */
export type Permissions = { statement: string; permissions: string[] };

export type TokensType = "token" | "code" | "custom";

export type InviteLedgerOptions = {
  /** Where invite-ledger listens, e.g. `https://ledger.internal:8080`. */
  ledgerUrl: string;
  /** An API key of scope `companion` (`invite-ledger apikey create --scope companion`). */
  apiKey: string;
  /** Milliseconds each call to the ledger may take. @default 5000 */
  ledgerTimeoutMs?: number;
  /**
   * Refuse every sign-up without a valid invite, before Better Auth writes the user.
   * @default what the ledger's `INVITE_ONLY` says
   */
  inviteOnly?: boolean;
  /** The `fetch` used to reach the ledger (a proxy or custom agent). @default globalThis.fetch */
  fetch?: typeof fetch;

  getDate?: () => Date;
  canCreateInvite?:
    | ((data: {
        invitedUser: { email?: string | string[]; role: string };
        inviterUser: InviteUser;
        ctx: GenericEndpointContext;
      }) => Awaitable<boolean>)
    | boolean
    | Permissions;
  canAcceptInvite?: ((data: { invitedUser: InviteUser; newAccount: boolean }) => Awaitable<boolean>) | boolean | Permissions;
  canCancelInvite?:
    | ((data: { inviterUser: InviteUser; invitation: LedgerInvite; ctx: GenericEndpointContext }) => Awaitable<boolean>)
    | boolean
    | Permissions;
  canRejectInvite?:
    | ((data: { inviteeUser: InviteUser; invitation: LedgerInvite; ctx: GenericEndpointContext }) => Awaitable<boolean>)
    | boolean
    | Permissions;
  generateToken?: () => string;
  defaultTokenType?: TokensType;
  defaultRedirectToSignUp?: string;
  defaultRedirectToSignIn?: string;
  defaultRedirectAfterUpgrade?: string;
  defaultShareInviterName?: boolean;
  defaultMaxUses?: number;
  defaultSenderResponse?: "token" | "url";
  defaultSenderResponseRedirect?: "signUp" | "signIn";
  defaultCustomInviteUrl?: string;
  sendUserInvitation?: (
    data: { email: string; name?: string; role: string; url: string; token: string; newAccount: boolean },
    request?: Request,
  ) => Awaitable<void>;
  /** Seconds an invite is valid for. @default 3600 */
  invitationTokenExpiresIn?: number;
  /** Seconds the invite cookie lives. @default 600 */
  inviteCookieMaxAge?: number;
  /** Accepted for compatibility; the ledger keeps every invite (its log is append-only). */
  cleanupInvitesOnDecision?: boolean;
  /** Accepted for compatibility; the ledger keeps every invite (its log is append-only). */
  cleanupInvitesAfterMaxUses?: boolean;
  onInvitationUsed?: (
    data: { invitedUser: InviteUser; newUser: InviteUser; newAccount: boolean },
    request?: Request,
  ) => Awaitable<void>;
  inviteHooks?: {
    beforeCreateInvite?: (data: { ctx: GenericEndpointContext }) => Awaitable<void>;
    afterCreateInvite?: (data: { ctx: GenericEndpointContext; invitations: LedgerInvite[] }) => Awaitable<void>;
    beforeAcceptInvite?: (data: {
      ctx: GenericEndpointContext;
      invitedUser: InviteUser;
    }) => Awaitable<{ user?: InviteUser } | void>;
    afterAcceptInvite?: (data: {
      ctx: GenericEndpointContext;
      invitation: LedgerInvite;
      invitedUser: InviteUser;
    }) => Awaitable<void>;
    beforeCancelInvite?: (data: { ctx: GenericEndpointContext; invitation: LedgerInvite }) => Awaitable<void>;
    afterCancelInvite?: (data: { ctx: GenericEndpointContext; invitation: LedgerInvite }) => Awaitable<void>;
    beforeRejectInvite?: (data: { ctx: GenericEndpointContext; invitation: LedgerInvite }) => Awaitable<void>;
    afterRejectInvite?: (data: { ctx: GenericEndpointContext; invitation: LedgerInvite }) => Awaitable<void>;
  };
};

export const resolveOptions = (options: InviteLedgerOptions) => ({
  getDate: () => new Date(),
  invitationTokenExpiresIn: 3600,
  defaultShareInviterName: true,
  defaultSenderResponse: "token" as const,
  defaultSenderResponseRedirect: "signUp" as const,
  defaultTokenType: "token" as TokensType,
  defaultRedirectToSignIn: "/auth/sign-in",
  defaultRedirectToSignUp: "/auth/sign-up",
  canCreateInvite: true as NonNullable<InviteLedgerOptions["canCreateInvite"]>,
  canAcceptInvite: true as NonNullable<InviteLedgerOptions["canAcceptInvite"]>,
  canCancelInvite: true as NonNullable<InviteLedgerOptions["canCancelInvite"]>,
  canRejectInvite: true as NonNullable<InviteLedgerOptions["canRejectInvite"]>,
  inviteCookieMaxAge: 600,
  ledgerTimeoutMs: 5000,
  ...withoutUndefined(options),
});

export type ResolvedOptions = ReturnType<typeof resolveOptions>;

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
