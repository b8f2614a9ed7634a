// One invite's life: its state (now, or at the moment chosen) and every event of
// its history in the order the ledger recorded them, each told as a sentence
// with people by name and times on the reader's clock.
import { ApiError, fmtTime, get, withQuery } from "./api.js";
import { nameOf, people } from "./people.js";
import { href, useLoad } from "./route.js";
import { personIds, sentence } from "./sentences.js";

async function loadEvents(id, asOf) {
  const { events } = await get(
    withQuery(`/api/ledger/invites/${encodeURIComponent(id)}/events`, { as_of: asOf }),
  );
  return { events, names: await people(personIds(events)) };
}

function Sentence({ event, names, asOf }) {
  const who = (id, fallback) => ({ id, label: nameOf(names.get(id), fallback || "an account") });
  return sentence(event, who, fmtTime).map((part) =>
    typeof part === "string" ? (
      part
    ) : part.id ? (
      <a class="person" href={href(`/people/${encodeURIComponent(part.id)}`, { as_of: asOf })}>
        {part.label}
      </a>
    ) : (
      part.label
    ),
  );
}

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
      <ol class="timeline" id="timeline">
        {(history.data?.events ?? []).map((event) => (
          <li key={event.position} class={`event event-${event.type}`} data-type={event.type}>
            <time class="when" datetime={event.recordedAt}>
              {fmtTime(event.recordedAt)}
            </time>
            <p class="sentence">
              <Sentence event={event} names={history.data.names} asOf={asOf} />
            </p>
          </li>
        ))}
      </ol>
      {history.data && history.data.events.length === 0 && (
        <p class="empty">No events recorded by then.</p>
      )}
    </section>
  );
}
