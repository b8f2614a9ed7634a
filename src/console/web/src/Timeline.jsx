// One invite's life: its state (now, or at the moment chosen) and every event of
// its history in the order the ledger recorded them, each told as a sentence
// with people by name and times on the reader's clock.
import { ApiError, fmtTime, get, withQuery } from "./api.js";
import { EventList, withNames } from "./EventList.jsx";
import { href, useLoad } from "./route.js";

const loadEvents = async (id, asOf) =>
  withNames(
    (await get(withQuery(`/api/ledger/invites/${encodeURIComponent(id)}/events`, { as_of: asOf })))
      .events,
  );

export function Timeline({ id, asOf }) {
  const invite = useLoad(
    () => get(withQuery(`/api/ledger/invites/${encodeURIComponent(id)}`, { as_of: asOf })),
    [id, asOf],
  );
  const history = useLoad(() => loadEvents(id, asOf), [id, asOf]);
  const row = invite.data?.invite;
  const notYet = invite.error instanceof ApiError && invite.error.status === 404;
  return (
    <section class="timeline-view">
      <p>
        <a href={href("/invites", { as_of: asOf })}>← Invites</a>
      </p>
      <h2>
        Invite <small>{id}</small>
      </h2>
      {notYet && <p class="note">{invite.error.message}</p>}
      {invite.error && !notYet && <p class="error">{invite.error.message}</p>}
      {row && (
        <div class="card invite-card">
          <span class={`badge status-${row.status}`} id="invite-status">
            {row.status}
          </span>{" "}
          <strong>{row.role}</strong> for {row.email ?? "anyone with the link"}, from{" "}
          <a href={href(`/people/${encodeURIComponent(row.inviterId)}`, { as_of: asOf })}>
            {row.inviterName || row.inviterEmail}
          </a>
          ; used {row.uses} of {row.maxUses}, activated {row.activations} times; expires{" "}
          {fmtTime(row.expiresAt)}.
        </div>
      )}
      {history.error && <p class="error">{history.error.message}</p>}
      <EventList id="timeline" loaded={history.data} asOf={asOf} />
    </section>
  );
}
