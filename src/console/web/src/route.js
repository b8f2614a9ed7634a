// The console's place lives in the URL's hash (`#/invites?status=pending&as_of=...`),
// so every view, filter and moment can be bookmarked and shared.
import { useEffect, useState } from "preact/hooks";

export function parseHash(hash = location.hash) {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  return { path: path || "/invites", params: Object.fromEntries(new URLSearchParams(query)) };
}

export function href(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

/** Goes to `path`, keeping the moment being looked at unless `params` sets it. */
export function navigate(path, params = {}) {
  const asOf = parseHash().params.as_of;
  location.hash = href(path, { as_of: asOf, ...params });
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const changed = () => setRoute(parseHash());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}

/** Runs `load` whenever `deps` change; `{data, error, loading}`, latest answer wins. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error) => current && setState({ data: null, error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, deps);
  return state;
}
