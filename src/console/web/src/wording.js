// Small helpers the sentences share: counts, codes as words, and how a sentence
// names the person it is about.

export const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** `SOME_CODE` or `some_code` as plain words ("some code"). */
export const words = (code) => String(code ?? "").toLowerCase().replaceAll("_", " ");

/**
 * Whose something is, as sentence parts: "their" when the one who acted is the
 * person it belongs to, else that person by name and "'s".
 */
export const whose = (by, owner, who) => (by && by === owner ? ["their"] : [who(owner), "'s"]);
