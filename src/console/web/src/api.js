// Calls to the server's own API. A signed-in admin's session cookie goes along by
// itself; an API key pasted into the sign-in form is kept for this tab only.

const KEY = "invite-ledger.api-key";

export const apiKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

/** A refusal from the server, with its `{code, message}`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, body) {
  const headers = { accept: "application/json" };
  const key = apiKey.get();
  if (key) headers["x-api-key"] = key;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.code ?? "HTTP_" + response.status, data?.message ?? text);
  }
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

/** `path?name=value&...`, leaving out empty values. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** Who may look: an admin's session or a working API key; `null` otherwise. */
export async function whoAmI() {
  if (apiKey.get()) {
    try {
      await get("/api/ledger/events?limit=1");
      return { kind: "apiKey" };
    } catch (error) {
      apiKey.clear();
      if (!(error instanceof ApiError)) throw error;
    }
  }
  const session = await get("/api/auth/get-session");
  return session?.user ? { kind: "session", user: session.user } : null;
}

export const signIn = (email, password) => post("/api/auth/sign-in/email", { email, password });

export async function signOut() {
  apiKey.clear();
  try {
    await post("/api/auth/sign-out", {});
  } catch {
    // Signed in by key only: there is no session to end.
  }
}

/** A time as the reader's own clock shows it: their time zone, to the second. */
const LOCAL_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
export const fmtTime = (iso) => (iso ? LOCAL_TIME.format(new Date(iso)) : "");
