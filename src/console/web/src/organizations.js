// Organizations as the audit API answers them: where their pages live in the
// console, and the calls those pages make.
import { get, withQuery } from "./api.js";

const api = (id) => `/api/ledger/organizations/${encodeURIComponent(id)}`;

/** The console's path of an organization, or of one of its invitations. */
export const organizationPath = (id, invitation) =>
  `/organizations/${encodeURIComponent(id)}` +
  (invitation ? `/invitations/${encodeURIComponent(invitation)}` : "");

/** Every organization the ledger knows, with today's counts. */
export const organizations = async () => (await get("/api/ledger/organizations")).organizations;

/** The organization's summary (name, slug), or `null` if the ledger has none of it. */
export const organization = async (id) => (await organizations()).find((o) => o.id === id) ?? null;

/** Its invitations at the moment (oldest first), each with its status then. */
export const invitations = async (id, asOf) =>
  (await get(withQuery(`${api(id)}/invitations`, { as_of: asOf }))).invitations;

/** Its memberships at the moment, those that had ended by then included. */
export const members = async (id, asOf) =>
  (await get(withQuery(`${api(id)}/members`, { as_of: asOf, ended: true }))).members;

/** Its events up to the moment, or one invitation's (and the membership it began). */
export const events = async (id, asOf, invitation) =>
  (
    await get(
      withQuery(
        invitation ? `${api(id)}/invitations/${encodeURIComponent(invitation)}/events` : `${api(id)}/events`,
        { as_of: asOf },
      ),
    )
  ).events;
