// People by name: the audit API names accounts by id; a reader wants the name
// (or the email). Each id is looked up once per page load.
import { get } from "./api.js";

const known = new Map();

/** `{id, name, email}` of the account with this id, or `null` if the ledger has none. */
export function person(id) {
  if (!known.has(id)) {
    known.set(
      id,
      get(`/api/ledger/users/${encodeURIComponent(id)}`).catch(() => null),
    );
  }
  return known.get(id);
}

/** The people with these ids, as a `Map` from id to `{id, name, email}` (or `null`). */
export async function people(ids) {
  const unique = [...new Set(ids.filter(Boolean))];
  const found = await Promise.all(unique.map(person));
  return new Map(unique.map((id, i) => [id, found[i]]));
}

/** What a reader calls a person: their name, else their email, else the id given. */
export const nameOf = (someone, id) => someone?.name || someone?.email || id;
