// Events in the order given, each told as a sentence with people by name (linked
// to their pages at the same moment) and when the ledger recorded it, on the
// reader's clock. The invite's timeline, a person's history and an
// organization's trails all read this way.
import { fmtTime } from "./api.js";
import { nameOf, people } from "./people.js";
import { href } from "./route.js";
import { personIds, sentence } from "./sentences.js";

/** `events` with the people their sentences name, looked up: `{events, names}`. */
export async function withNames(events) {
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

/** The list, with the element id `id`; `loaded` is what `withNames` gave. */
export function EventList({ id, loaded, asOf }) {
  if (!loaded) return null;
  return (
    <>
      <ol class="timeline" id={id}>
        {loaded.events.map((event) => (
          <li key={event.position} class={`event event-${event.type}`} data-type={event.type}>
            <time class="when" datetime={event.recordedAt}>
              {fmtTime(event.recordedAt)}
            </time>
            <p class="sentence">
              <Sentence event={event} names={loaded.names} asOf={asOf} />
            </p>
          </li>
        ))}
      </ol>
      {loaded.events.length === 0 && <p class="empty">No events recorded by then.</p>}
    </>
  );
}
