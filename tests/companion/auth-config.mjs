// The Better Auth configuration every scenario runs: email and password, `admin()`,
// the invite plugin under test (ours against the ledger, or better-invite 0.5.7), and
// in one scenario `twoFactor()`. The harness uses it for Better Auth's own migrations,
// the server process (auth-server.mjs) to serve.
import { betterAuth } from "better-auth";
import { admin, emailOTP, genericOAuth, organization, twoFactor } from "better-auth/plugins";
import { invite } from "better-invite";
import { inviteLedger, inviteLedgerOrganization, ledgerOrganizationHooks } from "@invite-ledger/better-auth";
import pg from "pg";

export const SECRET = "companion-suite-secret-0123456789abcdef";

/** The invite options both plugins take (the seed's quick-start). */
const inviteOptions = (sendUserInvitation) => ({
  defaultRedirectAfterUpgrade: "/auth/invited",
  sendUserInvitation,
});

/**
 * @param {object} settings
 * @param {string} settings.databaseUrl Better Auth's own database
 * @param {string} settings.baseURL where the server listens
 * @param {"ledger"|"better-invite"} settings.plugin
 * @param {string} [settings.ledgerUrl]
 * @param {string} [settings.apiKey]
 * @param {boolean} [settings.twoFactor]
 * @param {boolean} [settings.emailOtp]
 * @param {boolean} [settings.verifyEmail]
 * @param {string} [settings.oauthProviderUrl] an OAuth provider for social sign-in (id "acme")
 * @param {(message: object) => void} [settings.sendVerificationEmail]
 * @param {(otp: object) => void} [settings.sendVerificationOTP]
 * @param {boolean} [settings.inviteOnly]
 * @param {number} [settings.ledgerTimeoutMs]
 * @param {(email: object) => void} [settings.sendUserInvitation]
 * @param {typeof fetch} [settings.fetch] how the plugin reaches the ledger
 * @param {boolean} [settings.organization] Better Auth's `organization()` with the ledger's hooks
 * @param {false} [settings.reconcile] no reconciliation of organizations at start
 */
export function makeAuth(settings) {
  const send = settings.sendUserInvitation ?? (() => {});
  const invitePlugin =
    settings.plugin === "better-invite"
      ? invite(inviteOptions(send))
      : inviteLedger({
          ...inviteOptions(send),
          ledgerUrl: settings.ledgerUrl,
          apiKey: settings.apiKey,
          inviteOnly: settings.inviteOnly,
          ledgerTimeoutMs: settings.ledgerTimeoutMs,
          fetch: settings.fetch,
        });
  const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 6 });
  // An idle connection the server drops is replaced on the next query, not a crash.
  pool.on("error", (error) => console.error(`Better Auth pool: ${error.message}`));
  return betterAuth({
    appName: "Companion suite",
    baseURL: settings.baseURL,
    secret: SECRET,
    database: pool,
    emailAndPassword: {
      enabled: true,
      // Cheap hashing: fifty concurrent sign-ups on two cores are about seats, not scrypt.
      password: {
        hash: async (password) => `plain:${password}`,
        verify: async ({ hash, password }) => hash === `plain:${password}`,
      },
    },
    rateLimit: { enabled: false },
    ...(settings.verifyEmail
      ? {
          emailVerification: {
            sendOnSignUp: true,
            autoSignInAfterVerification: true,
            sendVerificationEmail: async (message) => (settings.sendVerificationEmail ?? (() => {}))(message),
          },
        }
      : {}),
    plugins: [
      admin({ defaultRole: "user" }),
      invitePlugin,
      ...(settings.organization ? organizationPlugins(settings) : []),
      ...(settings.twoFactor ? [twoFactor({ issuer: "Companion suite" })] : []),
      ...(settings.oauthProviderUrl
        ? [
            genericOAuth({
              config: [
                {
                  providerId: "acme",
                  clientId: "companion-suite",
                  clientSecret: "companion-suite-secret",
                  authorizationUrl: `${settings.oauthProviderUrl}/authorize`,
                  tokenUrl: `${settings.oauthProviderUrl}/token`,
                  userInfoUrl: `${settings.oauthProviderUrl}/userinfo`,
                  scopes: ["email"],
                },
              ],
            }),
          ]
        : []),
      ...(settings.emailOtp
        ? [emailOTP({ sendVerificationOTP: async (otp) => (settings.sendVerificationOTP ?? (() => {}))(otp) })]
        : []),
    ],
    logger: { level: process.env.AUTH_LOG_LEVEL ?? "error" },
  });
}

/** `organization()` with the ledger's hooks (beside one of the app's own), and the plugin for the routes without hooks. */
function organizationPlugins(settings) {
  const ledger = {
    ledgerUrl: settings.ledgerUrl,
    apiKey: settings.apiKey,
    fetch: settings.fetch,
    ledgerTimeoutMs: settings.ledgerTimeoutMs,
  };
  return [
    organization({
      cancelPendingInvitationsOnReInvite: true,
      organizationHooks: ledgerOrganizationHooks({
        ...ledger,
        // The app's own hook still runs (and may refuse first).
        hooks: {
          beforeCreateInvitation: async ({ invitation }) => {
            if (invitation.email.startsWith("refused-by-app@")) throw new Error("the app refuses");
          },
        },
      }),
    }),
    // Reconciles at start unless told otherwise (the harness's migrations: no server yet).
    inviteLedgerOrganization({ ...ledger, reconcile: settings.reconcile }),
  ];
}
