// Everything that happened to a person's account, up to the moment chosen:
// sign-up, roles, passwords set or reset, addresses verified or changed,
// sessions ended, bans, erasure; each a sentence with who and when.
import { get, withQuery } from "./api.js";
import { EventList, withNames } from "./EventList.jsx";
import { useLoad } from "./route.js";

const PAGE = 1000;

/** The person's events from the feed, every page of them. */
async function personEvents(id, asOf) {
  const events = [];
  let after;
  for (;;) {
    const page = await get(
      withQuery("/api/ledger/events", { aggregate: id, as_of: asOf, after, limit: PAGE }),
    );
    events.push(...page.events);
    if (page.events.length < PAGE) return events;
    after = page.next;
  }
}

export function PersonHistory({ id, asOf }) {
  const { data, error } = useLoad(async () => withNames(await personEvents(id, asOf)), [id, asOf]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">Loading...</p>;
  return <EventList id="person-history" loaded={data} asOf={asOf} />;
}
