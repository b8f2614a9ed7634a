// Writes dist/source.sha256: the hash of every source file the build read, so a
// test (tests/console_assets.rs) can tell when dist/ is older than its sources.
// The list and hash must match what that test computes: every file under this
// folder except node_modules/ and dist/, by path (with `/`), each line
// `<path>\n<sha256 of its bytes>\n`, the whole hashed again.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const skipped = new Set(["node_modules", "dist"]);

function files(dir, prefix = "") {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return skipped.has(entry.name) ? [] : files(path.join(dir, entry.name), rel);
    return entry.isFile() ? [rel] : [];
  });
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const listing = files(root)
  .sort()
  .map((rel) => `${rel}\n${sha256(readFileSync(path.join(root, rel)))}\n`)
  .join("");
writeFileSync(path.join(root, "dist/source.sha256"), `${sha256(listing)}\n`);
