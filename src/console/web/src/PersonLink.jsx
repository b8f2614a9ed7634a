// A person by name, linked to their page at the moment being looked at.
import { nameOf } from "./people.js";
import { href } from "./route.js";

/** `names` is what `people()` found; `fallback` names someone it did not. */
export function PersonLink({ id, names, fallback, asOf }) {
  if (!id) return fallback ?? "";
  return (
    <a class="person" href={href(`/people/${encodeURIComponent(id)}`, { as_of: asOf })}>
      {nameOf(names.get(id), fallback || id)}
    </a>
  );
}
