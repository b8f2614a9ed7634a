// Writing the role the ledger decided onto Better Auth's user row, at least once and
// never backwards: compare-and-set on the log position the decision came from, so a
// late, repeated or replayed delivery of an older decision changes nothing.
import type { AuthContext } from "better-auth";

import { positionKey } from "./context.js";

/** The field the plugin adds to Better Auth's user table. */
export const POSITION_FIELD = "inviteLedgerPosition";

/** True when this decision was written; false when the row already holds it or a newer one. */
export async function applyRole(
  context: Pick<AuthContext, "adapter">,
  userId: string,
  role: string,
  position: unknown,
): Promise<boolean> {
  // A replayed answer carries no position: the first answer's write (or the
  // ledger's repair of it) is the one that counts.
  if (position === null || position === undefined) return false;
  const key = positionKey(position);
  const updated = await context.adapter.update<Record<string, unknown>>({
    model: "user",
    where: [
      { field: "id", value: userId },
      { field: POSITION_FIELD, value: null, connector: "OR" },
      { field: POSITION_FIELD, operator: "lt", value: key, connector: "OR" },
    ],
    update: { role, [POSITION_FIELD]: key, updatedAt: new Date() },
  });
  return Boolean(updated);
}

/**
 * Takes back a role written for a seat the ledger then released: only if the row
 * still holds that decision (nothing newer came from the ledger since).
 */
export async function withdrawRole(
  context: Pick<AuthContext, "adapter"> | null,
  userId: string,
  defaultRole: string,
  position: unknown,
): Promise<void> {
  if (!context || position === null || position === undefined || position === "null") return;
  await context.adapter.update({
    model: "user",
    where: [
      { field: "id", value: userId },
      { field: POSITION_FIELD, value: positionKey(position) },
    ],
    update: { role: defaultRole, updatedAt: new Date() },
  });
}
