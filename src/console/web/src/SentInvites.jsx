// The invites a person sent (now, or as they stood at the moment chosen), each
// told in a line: when, to whom, as what, and what became of it.
import { fmtTime, get, withQuery } from "./api.js";
import { href, useLoad } from "./route.js";

const LIMIT = 200;
const OUTCOME = {
  pending: "still open",
  used_up: "used up",
  cancelled: "cancelled",
  rejected: "declined",
  expired: "expired",
};

export function SentInvites({ inviter, asOf }) {
  const { data, error } = useLoad(
    () => get(withQuery("/api/ledger/invites", { inviter, as_of: asOf, limit: LIMIT })),
    [inviter, asOf],
  );
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">Loading...</p>;
  if (data.invites.length === 0) return <p class="empty" id="sent-invites">Sent no invites.</p>;
  return (
    <>
      <ol class="sent-invites" id="sent-invites">
        {data.invites.map((invite) => (
          <li key={invite.id} data-id={invite.id}>
            <a href={href(`/invites/${invite.id}`, { as_of: asOf })}>{fmtTime(invite.createdAt)}</a>
            {": "}
            {invite.email ? `invited ${invite.email}` : "a link for anyone"} as {invite.role}; used{" "}
            {invite.uses} of {invite.maxUses}, {OUTCOME[invite.status] ?? invite.status}.
          </li>
        ))}
      </ol>
      {data.nextCursor && (
        <p class="note">
          The first {LIMIT} shown; <a href={href("/invites", { inviter, as_of: asOf })}>all of them</a>.
        </p>
      )}
    </>
  );
}
